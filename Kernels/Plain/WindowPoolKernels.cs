using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// Max and average pooling as PyTorch's CPU kernels define them: max pads with −∞ (padding is never chosen), average
/// counts the padding in its divisor (count_include_pad=True) but not the part of a ceil-mode window beyond it.
/// Forward runs one iteration per output; backward one per input element, gathering from every window that covers
/// it, so overlapping windows need no atomics.
/// </summary>
public static class WindowPoolKernels
{
    /// <summary>The window's maximum and its position h·W + w in the (n, c) plane; the first maximum in row-major order
    /// wins a tie and a NaN wins, as in PyTorch.</summary>
    public static void MaxForward(Index1D thread, ElementGrid grid, WindowPoolShape s, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var ow = i % s.OutW;
            var rest = i / s.OutW;
            var oh = rest % s.OutH;
            var plane = rest / s.OutH;
            var planeStart = plane * s.H * s.W;

            var h0 = oh * s.SH - s.PH;
            var w0 = ow * s.SW - s.PW;
            var hEnd = h0 + s.KH < s.H ? h0 + s.KH : s.H;
            var wEnd = w0 + s.KW < s.W ? w0 + s.KW : s.W;
            if (h0 < 0) h0 = 0;
            if (w0 < 0) w0 = 0;
            var best = h0 * s.W + w0;
            var bestValue = float.NegativeInfinity;
            for (var h = h0; h < hEnd; h++)
            {
                for (var w = w0; w < wEnd; w++)
                {
                    var value = input[planeStart + h * s.W + w];
                    if (value > bestValue || float.IsNaN(value))
                    {
                        bestValue = value;
                        best = h * s.W + w;
                    }
                }
            }
            output[i] = bestValue;
            argmax[i] = best;
        }
    }

    /// <summary>dx[h,w] = Σ dy over the windows covering (h, w) whose argmax it was; overwrites dx.</summary>
    public static void MaxBackward(Index1D thread, ElementGrid grid, WindowPoolShape s, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var w = i % s.W;
            var rest = i / s.W;
            var h = rest % s.H;
            var plane = rest / s.H;
            var position = h * s.W + w;

            var sum = 0f;
            for (var oh = FirstWindow(h, s.KH, s.SH, s.PH); oh <= LastWindow(h, s.SH, s.PH, s.OutH); oh++)
            {
                for (var ow = FirstWindow(w, s.KW, s.SW, s.PW); ow <= LastWindow(w, s.SW, s.PW, s.OutW); ow++)
                {
                    var o = (plane * s.OutH + oh) * s.OutW + ow;
                    if (argmax[o] == position) sum += gradOutput[o];
                }
            }
            gradInput[i] = sum;
        }
    }

    /// <summary>y = the window's sum over its divisor (<see cref="AverageDivisor"/>).</summary>
    public static void AverageForward(Index1D thread, ElementGrid grid, WindowPoolShape s, ArrayView<float> input, ArrayView<float> output)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var ow = i % s.OutW;
            var rest = i / s.OutW;
            var oh = rest % s.OutH;
            var plane = rest / s.OutH;
            var planeStart = plane * s.H * s.W;

            var h0 = oh * s.SH - s.PH;
            var w0 = ow * s.SW - s.PW;
            var hEnd = h0 + s.KH < s.H ? h0 + s.KH : s.H;
            var wEnd = w0 + s.KW < s.W ? w0 + s.KW : s.W;
            var sum = 0f;
            for (var h = h0 < 0 ? 0 : h0; h < hEnd; h++)
            {
                for (var w = w0 < 0 ? 0 : w0; w < wEnd; w++) sum += input[planeStart + h * s.W + w];
            }
            output[i] = sum / AverageDivisor(s, oh, ow);
        }
    }

    /// <summary>dx[h,w] = Σ dy / divisor over the windows covering (h, w); overwrites dx.</summary>
    public static void AverageBackward(Index1D thread, ElementGrid grid, WindowPoolShape s, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var w = i % s.W;
            var rest = i / s.W;
            var h = rest % s.H;
            var plane = rest / s.H;

            var sum = 0f;
            for (var oh = FirstWindow(h, s.KH, s.SH, s.PH); oh <= LastWindow(h, s.SH, s.PH, s.OutH); oh++)
            {
                for (var ow = FirstWindow(w, s.KW, s.SW, s.PW); ow <= LastWindow(w, s.SW, s.PW, s.OutW); ow++)
                    sum += gradOutput[(plane * s.OutH + oh) * s.OutW + ow] / AverageDivisor(s, oh, ow);
            }
            gradInput[i] = sum;
        }
    }

    /// <summary>count_include_pad=True: the window's area clipped to the padded input (kernel area but for a
    /// ceil-mode window that runs past the right or bottom padding).</summary>
    private static float AverageDivisor(WindowPoolShape s, int oh, int ow)
    {
        var h0 = oh * s.SH - s.PH;
        var w0 = ow * s.SW - s.PW;
        var hEnd = h0 + s.KH < s.H + s.PH ? h0 + s.KH : s.H + s.PH;
        var wEnd = w0 + s.KW < s.W + s.PW ? w0 + s.KW : s.W + s.PW;
        return (hEnd - h0) * (wEnd - w0);
    }

    /// <summary>The first window o with o·S − P + K &gt; x (the first that reaches x), at least 0.</summary>
    private static int FirstWindow(int x, int kernel, int stride, int pad)
    {
        var reach = x + pad - kernel + 1;
        return reach <= 0 ? 0 : (reach + stride - 1) / stride;
    }

    /// <summary>The last window o with o·S − P ≤ x (the last that starts at or before x), below the output size.</summary>
    private static int LastWindow(int x, int stride, int pad, int outputs)
    {
        var last = (x + pad) / stride;
        return last < outputs ? last : outputs - 1;
    }
}

/// <summary>The pooling kernels loaded once for one accelerator.</summary>
public sealed class WindowPoolOps : IWindowPoolOps
{
    private static readonly ConditionalWeakTable<Accelerator, WindowPoolOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, WindowPoolShape, ArrayView<float>, ArrayView<float>, ArrayView<int>> _maxForward;
    private readonly Action<Index1D, ElementGrid, WindowPoolShape, ArrayView<float>, ArrayView<int>, ArrayView<float>> _maxBackward;
    private readonly Action<Index1D, ElementGrid, WindowPoolShape, ArrayView<float>, ArrayView<float>> _averageForward;
    private readonly Action<Index1D, ElementGrid, WindowPoolShape, ArrayView<float>, ArrayView<float>> _averageBackward;

    private readonly Accelerator _accelerator;

    private WindowPoolOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _maxForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, WindowPoolShape, ArrayView<float>, ArrayView<float>, ArrayView<int>>(WindowPoolKernels.MaxForward);
        _maxBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, WindowPoolShape, ArrayView<float>, ArrayView<int>, ArrayView<float>>(WindowPoolKernels.MaxBackward);
        _averageForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, WindowPoolShape, ArrayView<float>, ArrayView<float>>(WindowPoolKernels.AverageForward);
        _averageBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, WindowPoolShape, ArrayView<float>, ArrayView<float>>(WindowPoolKernels.AverageBackward);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static WindowPoolOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new WindowPoolOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(WindowPoolOps), WindowPoolKernels.MaxForward),
        KernelEntryPoint.AutoGrouped(nameof(WindowPoolOps), WindowPoolKernels.MaxBackward),
        KernelEntryPoint.AutoGrouped(nameof(WindowPoolOps), WindowPoolKernels.AverageForward),
        KernelEntryPoint.AutoGrouped(nameof(WindowPoolOps), WindowPoolKernels.AverageBackward),
    ];

    public void MaxForward(WindowPoolShape shape, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax)
    {
        const string operation = "WindowPoolOps.MaxForward";
        Check(shape, operation, input, output);
        ViewChecks.RequireLength(argmax, shape.OutputLength, operation, nameof(argmax));
        var grid = ElementGrid.For(_accelerator, shape.OutputLength);
        if (shape.OutputLength > 0) _maxForward(grid.Threads, grid, shape, input, output, argmax);
    }

    public void MaxBackward(WindowPoolShape shape, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput)
    {
        const string operation = "WindowPoolOps.MaxBackward";
        Check(shape, operation, gradInput, gradOutput);
        ViewChecks.RequireLength(argmax, shape.OutputLength, operation, nameof(argmax));
        var grid = ElementGrid.For(_accelerator, shape.InputLength);
        if (shape.InputLength > 0) _maxBackward(grid.Threads, grid, shape, gradOutput, argmax, gradInput);
    }

    public void AverageForward(WindowPoolShape shape, ArrayView<float> input, ArrayView<float> output)
    {
        Check(shape, "WindowPoolOps.AverageForward", input, output);
        var grid = ElementGrid.For(_accelerator, shape.OutputLength);
        if (shape.OutputLength > 0) _averageForward(grid.Threads, grid, shape, input, output);
    }

    public void AverageBackward(WindowPoolShape shape, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        Check(shape, "WindowPoolOps.AverageBackward", gradInput, gradOutput);
        var grid = ElementGrid.For(_accelerator, shape.InputLength);
        if (shape.InputLength > 0) _averageBackward(grid.Threads, grid, shape, gradOutput, gradInput);
    }

    private static void Check(WindowPoolShape shape, string operation, ArrayView<float> inputLike, ArrayView<float> outputLike)
    {
        ViewChecks.RequireIndexable(shape.InputLength, operation);
        ViewChecks.RequireLength(inputLike, shape.InputLength, operation, "input");
        ViewChecks.RequireLength(outputLike, shape.OutputLength, operation, "output");
    }
}
