using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>Max pooling with kernel = stride, and the (N,C,H,W) → (N,H,C,W) transpose EnvNet applies after pool2.</summary>
public static class PoolKernels
{
    /// <summary>
    /// One iteration per output: the window's maximum and its position h·W + w within the (n, c) plane (PyTorch's
    /// indices). Scans row-major with a strict &gt;, so the first maximum wins a tie; a NaN wins as in PyTorch.
    /// </summary>
    public static void MaxPoolForward(Index1D thread, ElementGrid grid, MaxPool2dShape s, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var ow = i % s.OutW;
            var rest = i / s.OutW;
            var oh = rest % s.OutH;
            var plane = rest / s.OutH;
            var planeStart = plane * s.H * s.W;

            var best = oh * s.KH * s.W + ow * s.KW;
            var bestValue = input[planeStart + best];
            for (var kh = 0; kh < s.KH; kh++)
            {
                for (var kw = 0; kw < s.KW; kw++)
                {
                    var position = (oh * s.KH + kh) * s.W + ow * s.KW + kw;
                    var value = input[planeStart + position];
                    if (value > bestValue || float.IsNaN(value))
                    {
                        bestValue = value;
                        best = position;
                    }
                }
            }
            output[i] = bestValue;
            argmax[i] = best;
        }
    }

    /// <summary>One iteration per input element: the window it lies in routes dy to it if it was the argmax, else 0.
    /// Windows do not overlap, so this gather writes every element once, with no zeroing pass and no atomics.</summary>
    public static void MaxPoolBackward(Index1D thread, ElementGrid grid, MaxPool2dShape s, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var iw = i % s.W;
            var rest = i / s.W;
            var ih = rest % s.H;
            var plane = rest / s.H;
            var oh = ih / s.KH;
            var ow = iw / s.KW;
            var gradient = 0f;
            if (oh < s.OutH && ow < s.OutW)
            {
                var o = (plane * s.OutH + oh) * s.OutW + ow;
                if (argmax[o] == ih * s.W + iw) gradient = gradOutput[o];
            }
            gradInput[i] = gradient;
        }
    }

    /// <summary>output[n, b, a, w] = input[n, a, b, w] for input [N, A, B, W]; one iteration per output, width fastest.
    /// Its backward is the same kernel with A and B swapped.</summary>
    public static void Transpose12(Index1D thread, ElementGrid grid, TransposeShape s, ArrayView<float> input, ArrayView<float> output)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var w = i % s.W;
            var rest = i / s.W;
            var a = rest % s.A;
            rest /= s.A;
            var b = rest % s.B;
            var n = rest / s.B;
            output[i] = input[((n * s.A + a) * s.B + b) * s.W + w];
        }
    }
}

/// <summary>The max-pool kernels loaded once for one accelerator.</summary>
public sealed class PoolOps : IPoolOps
{
    private static readonly ConditionalWeakTable<Accelerator, PoolOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, MaxPool2dShape, ArrayView<float>, ArrayView<float>, ArrayView<int>> _forward;
    private readonly Action<Index1D, ElementGrid, MaxPool2dShape, ArrayView<float>, ArrayView<int>, ArrayView<float>> _backward;

    private readonly Accelerator _accelerator;

    public PoolOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _forward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, MaxPool2dShape, ArrayView<float>, ArrayView<float>, ArrayView<int>>(PoolKernels.MaxPoolForward);
        _backward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, MaxPool2dShape, ArrayView<float>, ArrayView<int>, ArrayView<float>>(PoolKernels.MaxPoolBackward);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static PoolOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new PoolOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(PoolOps), PoolKernels.MaxPoolForward),
        KernelEntryPoint.AutoGrouped(nameof(PoolOps), PoolKernels.MaxPoolBackward),
    ];

    /// <summary>output and argmax (index h·W + w in the input's (n, c) plane), both [N, C, OutH, OutW].</summary>
    public void MaxPoolForward(MaxPool2dShape shape, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax)
    {
        const string operation = "PoolOps.MaxPoolForward";
        ViewChecks.RequireIndexable(shape.InputLength, operation);
        ViewChecks.RequireLength(input, shape.InputLength, operation, nameof(input));
        ViewChecks.RequireLength(output, shape.OutputLength, operation, nameof(output));
        ViewChecks.RequireLength(argmax, shape.OutputLength, operation, nameof(argmax));
        var grid = ElementGrid.For(_accelerator, shape.OutputLength);
        if (shape.OutputLength > 0) _forward(grid.Threads, grid, shape, input, output, argmax);
    }

    /// <summary>gradInput = gradOutput routed to each window's argmax, zero elsewhere; overwrites gradInput.</summary>
    public void MaxPoolBackward(MaxPool2dShape shape, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput)
    {
        const string operation = "PoolOps.MaxPoolBackward";
        ViewChecks.RequireIndexable(shape.InputLength, operation);
        ViewChecks.RequireLength(gradOutput, shape.OutputLength, operation, nameof(gradOutput));
        ViewChecks.RequireLength(argmax, shape.OutputLength, operation, nameof(argmax));
        ViewChecks.RequireLength(gradInput, shape.InputLength, operation, nameof(gradInput));
        var grid = ElementGrid.For(_accelerator, shape.InputLength);
        if (shape.InputLength > 0) _backward(grid.Threads, grid, shape, gradOutput, argmax, gradInput);
    }
}
