using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// torch.optim.Adadelta, as its single-tensor implementation: g = grad + wd·p (L2 decay on the gradient);
/// s ← ρ·s + (1−ρ)·g² (square_avg); δ = √(a + eps) / √(s + eps) · g; a ← ρ·a + (1−ρ)·δ² (acc_delta); p ← p − lr·δ.
/// </summary>
public static class AdadeltaKernels
{
    public static void Step(Index1D thread, ElementGrid grid, ArrayView<float> parameter, ArrayView<float> gradient,
        ArrayView<float> squareAvg, ArrayView<float> accDelta, AdadeltaArgs args)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var p = parameter[i];
            var g = gradient[i] + args.WeightDecay * p;
            var s = args.Rho * squareAvg[i] + (1f - args.Rho) * g * g;
            var a = accDelta[i];
            var delta = XMath.Sqrt(a + args.Eps) / XMath.Sqrt(s + args.Eps) * g;
            squareAvg[i] = s;
            accDelta[i] = args.Rho * a + (1f - args.Rho) * delta * delta;
            parameter[i] = p - args.LearningRate * delta;
        }
    }
}

/// <summary>The Adadelta kernel loaded once for an accelerator.</summary>
public sealed class AdadeltaOps : IAdadeltaOps
{
    private static readonly ConditionalWeakTable<Accelerator, AdadeltaOps> Loaded = new();

    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdadeltaArgs> _step;

    private readonly Accelerator _accelerator;

    private AdadeltaOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _step = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdadeltaArgs>(
            AdadeltaKernels.Step);
    }

    public static AdadeltaOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new AdadeltaOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(AdadeltaOps), AdadeltaKernels.Step),
    ];

    public void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> squareAvg, ArrayView<float> accDelta, AdadeltaArgs args)
    {
        if (gradient.Length != parameter.Length || squareAvg.Length != parameter.Length || accDelta.Length != parameter.Length
            || parameter.Length > int.MaxValue)
            throw new ArgumentException(
                $"Adadelta needs parameter ({parameter.Length}), gradient ({gradient.Length}), square_avg ({squareAvg.Length}) and acc_delta ({accDelta.Length}) of one length below 2^31.");
        if (parameter.Length == 0) return;
        var grid = ElementGrid.For(_accelerator, parameter.Length);
        _step(grid.Threads, grid, parameter, gradient, squareAvg, accDelta, args);
    }
}
