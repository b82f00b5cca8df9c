using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>Element-wise activations, one iteration of an ElementGrid per element.</summary>
public static class ActivationKernels
{
    /// <summary>y = max(x, 0); NaN stays NaN as in PyTorch.</summary>
    public static void ReluForward(Index1D thread, ElementGrid grid, ArrayView<float> input, ArrayView<float> output)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var x = input[i];
            output[i] = x > 0f || float.IsNaN(x) ? x : 0f;
        }
    }

    /// <summary>dx = dy where y &gt; 0, else 0 (PyTorch's threshold_backward on the output).</summary>
    public static void ReluBackward(Index1D thread, ElementGrid grid, ArrayView<float> output, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            gradInput[i] = output[i] > 0f ? gradOutput[i] : 0f;
        }
    }
}

/// <summary>The activation kernels loaded once for one accelerator.</summary>
public sealed class ActivationOps : IActivationOps
{
    private static readonly ConditionalWeakTable<Accelerator, ActivationOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>> _reluForward;
    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>> _reluBackward;

    private readonly Accelerator _accelerator;

    public ActivationOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _reluForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>>(ActivationKernels.ReluForward);
        _reluBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ActivationKernels.ReluBackward);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static ActivationOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new ActivationOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(ActivationOps), ActivationKernels.ReluForward),
        KernelEntryPoint.AutoGrouped(nameof(ActivationOps), ActivationKernels.ReluBackward),
    ];

    /// <summary>output[i] = max(input[i], 0) for the first <paramref name="count"/> elements.</summary>
    public void ReluForward(long count, ArrayView<float> input, ArrayView<float> output)
    {
        const string operation = "ActivationOps.ReluForward";
        ViewChecks.RequireIndexable(count, operation);
        ViewChecks.RequireLength(input, count, operation, nameof(input));
        ViewChecks.RequireLength(output, count, operation, nameof(output));
        var grid = ElementGrid.For(_accelerator, count);
        if (count > 0) _reluForward(grid.Threads, grid, input, output);
    }

    /// <summary>gradInput[i] = output[i] &gt; 0 ? gradOutput[i] : 0, from the forward's output.</summary>
    public void ReluBackward(long count, ArrayView<float> output, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        const string operation = "ActivationOps.ReluBackward";
        ViewChecks.RequireIndexable(count, operation);
        ViewChecks.RequireLength(output, count, operation, nameof(output));
        ViewChecks.RequireLength(gradOutput, count, operation, nameof(gradOutput));
        ViewChecks.RequireLength(gradInput, count, operation, nameof(gradInput));
        var grid = ElementGrid.For(_accelerator, count);
        if (count > 0) _reluBackward(grid.Threads, grid, output, gradOutput, gradInput);
    }
}
