using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// Plain 1-D convolution kernels, as <see cref="Conv2dKernels"/> with one spatial axis: one ElementGrid iteration per
/// element written, no atomics. The bias is <see cref="ChannelBiasKernels"/>.
/// </summary>
public static class Conv1dKernels
{
    /// <summary>y[n,co,o] = Σ_{ci,k} x[n,ci,o·S − PadLeft + k] · w[co,ci,k] (zero outside x).</summary>
    public static void Forward(Index1D thread, ElementGrid grid, Conv1dShape s, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var o = i % s.OutL;
            var rest = i / s.OutL;
            var co = rest % s.Cout;
            var n = rest / s.Cout;

            var start = o * s.S - s.PadLeft;
            var sum = 0f;
            for (var ci = 0; ci < s.Cin; ci++)
            {
                var inputRow = (n * s.Cin + ci) * s.L;
                var weightRow = (co * s.Cin + ci) * s.K;
                for (var k = 0; k < s.K; k++)
                {
                    var position = start + k;
                    if (position < 0 || position >= s.L) continue;
                    sum += input[inputRow + position] * weight[weightRow + k];
                }
            }
            output[i] = sum;
        }
    }

    /// <summary>dx[n,ci,l] = Σ dy[n,co,o] · w[co,ci,k] over the outputs whose window covered l: l + PadLeft − k = o·S
    /// with 0 ≤ o &lt; OutL. A gather, so no two threads write one place.</summary>
    public static void BackwardInput(Index1D thread, ElementGrid grid, Conv1dShape s, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var l = i % s.L;
            var rest = i / s.L;
            var ci = rest % s.Cin;
            var n = rest / s.Cin;

            var sum = 0f;
            for (var co = 0; co < s.Cout; co++)
            {
                var gradRow = (n * s.Cout + co) * s.OutL;
                var weightRow = (co * s.Cin + ci) * s.K;
                // Only taps with (l + PadLeft − k) divisible by the stride land on an output.
                for (var k = (l + s.PadLeft) % s.S; k < s.K; k += s.S)
                {
                    var t = l + s.PadLeft - k;
                    if (t < 0) break; // k only grows from here
                    var o = t / s.S;
                    if (o >= s.OutL) continue;
                    sum += gradOutput[gradRow + o] * weight[weightRow + k];
                }
            }
            gradInput[i] = sum;
        }
    }

    /// <summary>dw[co,ci,k] = Σ_{n,o} dy[n,co,o] · x[n,ci,o·S − PadLeft + k]; overwrites dw. Compensated: the sum runs
    /// over a whole batch of positions.</summary>
    public static void BackwardWeight(Index1D thread, ElementGrid grid, Conv1dShape s, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var k = i % s.K;
            var rest = i / s.K;
            var ci = rest % s.Cin;
            var co = rest / s.Cin;

            var sum = new CompensatedSum();
            for (var n = 0; n < s.N; n++)
            {
                var inputRow = (n * s.Cin + ci) * s.L;
                var gradRow = (n * s.Cout + co) * s.OutL;
                for (var o = 0; o < s.OutL; o++)
                {
                    var position = o * s.S - s.PadLeft + k;
                    if (position < 0 || position >= s.L) continue;
                    sum.Add(gradOutput[gradRow + o] * input[inputRow + position]);
                }
            }
            gradWeight[i] = sum.Value;
        }
    }
}

/// <summary>The 1-D convolution kernels loaded once for one accelerator; methods launch them on its default stream.</summary>
public sealed class Conv1dOps : IConv1dOps
{
    private static readonly ConditionalWeakTable<Accelerator, Conv1dOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, Conv1dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>> _forward;
    private readonly Action<Index1D, ElementGrid, Conv1dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>> _backwardInput;
    private readonly Action<Index1D, ElementGrid, Conv1dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>> _backwardWeight;

    private readonly Accelerator _accelerator;

    private Conv1dOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _forward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, Conv1dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Conv1dKernels.Forward);
        _backwardInput = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, Conv1dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Conv1dKernels.BackwardInput);
        _backwardWeight = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, Conv1dShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Conv1dKernels.BackwardWeight);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static Conv1dOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new Conv1dOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(Conv1dOps), Conv1dKernels.Forward),
        KernelEntryPoint.AutoGrouped(nameof(Conv1dOps), Conv1dKernels.BackwardInput),
        KernelEntryPoint.AutoGrouped(nameof(Conv1dOps), Conv1dKernels.BackwardWeight),
    ];

    public void Forward(Conv1dShape shape, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output)
    {
        Check(shape, "Conv1dOps.Forward", input, weight, output, nameof(input), nameof(weight), nameof(output));
        var grid = ElementGrid.For(_accelerator, shape.OutputLength);
        if (shape.OutputLength > 0) _forward(grid.Threads, grid, shape, input, weight, output);
    }

    public void BackwardInput(Conv1dShape shape, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput)
    {
        Check(shape, "Conv1dOps.BackwardInput", gradInput, weight, gradOutput, nameof(gradInput), nameof(weight), nameof(gradOutput));
        var grid = ElementGrid.For(_accelerator, shape.InputLength);
        if (shape.InputLength > 0) _backwardInput(grid.Threads, grid, shape, gradOutput, weight, gradInput);
    }

    public void BackwardWeight(Conv1dShape shape, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight)
    {
        Check(shape, "Conv1dOps.BackwardWeight", input, gradWeight, gradOutput, nameof(input), nameof(gradWeight), nameof(gradOutput));
        var grid = ElementGrid.For(_accelerator, shape.WeightLength);
        _backwardWeight(grid.Threads, grid, shape, input, gradOutput, gradWeight);
    }

    private static void Check(Conv1dShape shape, string operation,
        ArrayView<float> inputLike, ArrayView<float> weightLike, ArrayView<float> outputLike,
        string inputName, string weightName, string outputName)
    {
        ViewChecks.RequireIndexable(shape.InputLength, operation);
        ViewChecks.RequireIndexable(shape.OutputLength, operation);
        ViewChecks.RequireLength(inputLike, shape.InputLength, operation, inputName);
        ViewChecks.RequireLength(weightLike, shape.WeightLength, operation, weightName);
        ViewChecks.RequireLength(outputLike, shape.OutputLength, operation, outputName);
    }
}
