using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// torch.optim.SGD with dampening 0: g = grad + wd·p; buf = μ·buf + g; g = g + μ·buf (Nesterov) or g = buf;
/// p = p − lr·g. PyTorch sets buf = g on its first step, which is μ·0 + g, so a zero-initialised buffer is exact;
/// with μ = 0 both forms reduce to plain SGD as PyTorch's does.
/// </summary>
public static class SgdKernels
{
    public static void Step(Index1D thread, ElementGrid grid, ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> momentumBuffer,
        SgdArgs args)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var p = parameter[i];
            var g = gradient[i] + args.WeightDecay * p;
            var buffer = args.Momentum * momentumBuffer[i] + g;
            momentumBuffer[i] = buffer;
            g = args.Nesterov == 1 ? g + args.Momentum * buffer : buffer;
            parameter[i] = p - args.LearningRate * g;
        }
    }
}

/// <summary>The SGD kernel loaded once for an accelerator.</summary>
public sealed class SgdOps : ISgdOps
{
    private static readonly ConditionalWeakTable<Accelerator, SgdOps> Loaded = new();

    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs> _step;

    private readonly Accelerator _accelerator;

    private SgdOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _step = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>(
            SgdKernels.Step);
    }

    public static SgdOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new SgdOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(SgdOps), SgdKernels.Step),
    ];

    /// <summary>Updates the parameter and its momentum buffer in place; all three views have the same length.</summary>
    public void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> momentumBuffer, SgdArgs args)
    {
        if (gradient.Length != parameter.Length || momentumBuffer.Length != parameter.Length || parameter.Length > int.MaxValue)
            throw new ArgumentException(
                $"SGD needs parameter ({parameter.Length}), gradient ({gradient.Length}) and momentum buffer ({momentumBuffer.Length}) of one length below 2^31.");
        if (parameter.Length == 0) return;
        var grid = ElementGrid.For(_accelerator, parameter.Length);
        _step(grid.Threads, grid, parameter, gradient, momentumBuffer, args);
    }
}
