using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// torch.optim.Adam (amsgrad off), as its single-tensor implementation: g = grad + wd·p (L2 decay on the gradient,
/// not AdamW's decoupled decay); m ← m + (1−β1)·(g − m) (torch.lerp); v ← β2·v + (1−β2)·g²;
/// p ← p − StepSize·m / (√v / BiasCorrection2Sqrt + eps).
/// </summary>
public static class AdamKernels
{
    public static void Step(Index1D thread, ElementGrid grid, ArrayView<float> parameter, ArrayView<float> gradient,
        ArrayView<float> expAvg, ArrayView<float> expAvgSq, AdamArgs args)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var p = parameter[i];
            var g = gradient[i] + args.WeightDecay * p;
            var m = expAvg[i];
            m += (1f - args.Beta1) * (g - m);
            var v = args.Beta2 * expAvgSq[i] + (1f - args.Beta2) * g * g;
            expAvg[i] = m;
            expAvgSq[i] = v;
            parameter[i] = p - args.StepSize * (m / (XMath.Sqrt(v) / args.BiasCorrection2Sqrt + args.Eps));
        }
    }
}

/// <summary>The Adam kernel loaded once for an accelerator.</summary>
public sealed class AdamOps : IAdamOps
{
    private static readonly ConditionalWeakTable<Accelerator, AdamOps> Loaded = new();

    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs> _step;

    private readonly Accelerator _accelerator;

    private AdamOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _step = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>(
            AdamKernels.Step);
    }

    public static AdamOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new AdamOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(AdamOps), AdamKernels.Step),
    ];

    public void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> expAvg, ArrayView<float> expAvgSq, AdamArgs args)
    {
        if (gradient.Length != parameter.Length || expAvg.Length != parameter.Length || expAvgSq.Length != parameter.Length
            || parameter.Length > int.MaxValue)
            throw new ArgumentException(
                $"Adam needs parameter ({parameter.Length}), gradient ({gradient.Length}), exp_avg ({expAvg.Length}) and exp_avg_sq ({expAvgSq.Length}) of one length below 2^31.");
        if (parameter.Length == 0) return;
        var grid = ElementGrid.For(_accelerator, parameter.Length);
        _step(grid.Threads, grid, parameter, gradient, expAvg, expAvgSq, args);
    }
}
