using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// BatchNorm2d as PyTorch: training normalises with the batch mean and biased variance and moves the running
/// statistics by momentum with the unbiased variance; eval normalises with the running statistics.
/// Reductions run in two steps, all on the device: one iteration per (channel, chunk) reduces a strided chunk (at
/// each step neighbouring threads read neighbouring addresses), then one per channel combines the chunks.
/// </summary>
public static class BatchNormKernels
{
    /// <summary>
    /// Mean and sum of squared deviations (M2) of one chunk, by Welford's update, of the values shifted by the
    /// channel's first value K. Why not Σx and Σx²: their difference cancels catastrophically in float when
    /// |mean| ≫ std (activations after a conv often are offset), while Welford's M2 only adds non-negative terms
    /// measured from the running mean. The shift keeps the partial means O(std) rather than O(|mean|), so the
    /// thousand-step combine rounds at the scale of the spread, not of the offset. No doubles needed.
    /// </summary>
    public static void StatisticsPartial(Index1D thread, ElementGrid grid, BatchNormShape s, ArrayView<float> input,
        ArrayView<float> partialMean, ArrayView<float> partialM2)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var partials = s.Partials;
            var c = i / partials;
            var p = i % partials;
            var shift = input[ChannelElement(s, c, 0)];
            var mean = 0f;
            var m2 = 0f;
            var k = 0;
            for (var m = p; m < s.Count; m += partials)
            {
                var value = input[ChannelElement(s, c, m)] - shift;
                k++;
                var delta = value - mean;
                mean += delta / k;
                m2 += delta * (value - mean);
            }
            partialMean[i] = mean;
            partialM2[i] = m2;
        }
    }

    /// <summary>
    /// Combines a channel's chunks with Chan et al.'s pairwise formula (again only non-negative M2 terms), undoes
    /// the shift, then writes the batch mean and 1/√(biased var + eps) for normalising and backward, and moves the running
    /// statistics: r ← (1−momentum)·r + momentum·stat, with the unbiased variance M2/(n−1) as PyTorch does.
    /// </summary>
    public static void StatisticsCombine(Index1D thread, ElementGrid grid, BatchNormShape s, ArrayView<float> input,
        ArrayView<float> partialMean, ArrayView<float> partialM2,
        float momentum, float eps, ArrayView<float> savedMean, ArrayView<float> savedInvStd,
        ArrayView<float> runningMean, ArrayView<float> runningVar)
    {
        for (int c = thread; c < grid.Count; c += grid.Threads)
        {
            var partials = s.Partials;
            var count = 0f;
            var mean = 0f;
            var m2 = 0f;
            for (var p = 0; p < partials; p++)
            {
                float chunkCount = (s.Count - 1 - p) / partials + 1;
                var chunkMean = partialMean[c * partials + p];
                var total = count + chunkCount;
                var delta = chunkMean - mean;
                mean += delta * (chunkCount / total);
                m2 += partialM2[c * partials + p] + delta * delta * (count / total) * chunkCount;
                count = total;
            }
            mean += input[ChannelElement(s, c, 0)];
            savedMean[c] = mean;
            savedInvStd[c] = 1f / XMath.Sqrt(m2 / s.Count + eps);
            runningMean[c] = (1f - momentum) * runningMean[c] + momentum * mean;
            runningVar[c] = (1f - momentum) * runningVar[c] + momentum * (m2 / (s.Count - 1));
        }
    }

    /// <summary>invStd[c] = 1/√(variance[c] + eps): the eval-mode factor from the running variance.</summary>
    public static void InvStdFromVariance(Index1D thread, ElementGrid grid, ArrayView<float> variance, float eps, ArrayView<float> invStd)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            invStd[i] = 1f / XMath.Sqrt(variance[i] + eps);
        }
    }

    /// <summary>y = (x − mean[c])·invStd[c]·γ[c] + β[c], one iteration per element.</summary>
    public static void Normalize(Index1D thread, ElementGrid grid, BatchNormShape s, ArrayView<float> input, ArrayView<float> mean,
        ArrayView<float> invStd, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> output)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var c = i / s.Spatial % s.C;
            output[i] = (input[i] - mean[c]) * invStd[c] * gamma[c] + beta[c];
        }
    }

    /// <summary>Per chunk: Σ dy·x̂ and Σ dy with x̂ = (x − mean)·invStd recomputed from the saved statistics.
    /// Compensated sums: both sums mix signs over up to N·H·W terms.</summary>
    public static void GradientPartial(Index1D thread, ElementGrid grid, BatchNormShape s, ArrayView<float> input, ArrayView<float> gradOutput,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> partialDyXhat, ArrayView<float> partialDy)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var partials = s.Partials;
            var c = i / partials;
            var p = i % partials;
            var channelMean = mean[c];
            var channelInvStd = invStd[c];
            var dyXhat = new CompensatedSum();
            var dy = new CompensatedSum();
            for (var m = p; m < s.Count; m += partials)
            {
                var e = ChannelElement(s, c, m);
                var g = gradOutput[e];
                dyXhat.Add(g * ((input[e] - channelMean) * channelInvStd));
                dy.Add(g);
            }
            partialDyXhat[i] = dyXhat.Value;
            partialDy[i] = dy.Value;
        }
    }

    /// <summary>dγ[c] = Σ dy·x̂, dβ[c] = Σ dy over a channel's chunks; overwrites the gradients.</summary>
    public static void GradientCombine(Index1D thread, ElementGrid grid, BatchNormShape s, ArrayView<float> partialDyXhat, ArrayView<float> partialDy,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta)
    {
        for (int c = thread; c < grid.Count; c += grid.Threads)
        {
            var partials = s.Partials;
            var dyXhat = new CompensatedSum();
            var dy = new CompensatedSum();
            for (var p = 0; p < partials; p++)
            {
                dyXhat.Add(partialDyXhat[c * partials + p]);
                dy.Add(partialDy[c * partials + p]);
            }
            gradGamma[c] = dyXhat.Value;
            gradBeta[c] = dy.Value;
        }
    }

    /// <summary>
    /// Training-mode dx = γ·invStd/M·(M·dy − dβ − x̂·dγ), M = N·H·W, evaluated as γ·invStd·(dy − dβ/M − x̂·dγ/M)
    /// (PyTorch's order: no product grows with M).
    /// </summary>
    public static void InputGradient(Index1D thread, ElementGrid grid, BatchNormShape s, ArrayView<float> input, ArrayView<float> gradOutput,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> gamma,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta, ArrayView<float> gradInput)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var c = i / s.Spatial % s.C;
            var xhat = (input[i] - mean[c]) * invStd[c];
            float count = s.Count;
            gradInput[i] = gamma[c] * invStd[c] * (gradOutput[i] - gradBeta[c] / count - xhat * (gradGamma[c] / count));
        }
    }

    /// <summary>Flat index of the m-th value of channel c (m = n·H·W + position).</summary>
    private static int ChannelElement(BatchNormShape s, int c, int m) =>
        (m / s.Spatial * s.C + c) * s.Spatial + m % s.Spatial;
}

/// <summary>
/// The BatchNorm2d kernels loaded once for one accelerator. A training forward is <see cref="Statistics"/> then
/// <see cref="Normalize"/>; eval is <see cref="InvStdFromVariance"/> then <see cref="Normalize"/> with the running
/// mean; backward is <see cref="ParameterGradients"/> then <see cref="InputGradient"/>. Nothing synchronises.
/// </summary>
public sealed class BatchNormOps : IBatchNormOps
{
    private static readonly ConditionalWeakTable<Accelerator, BatchNormOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>> _statisticsPartial;
    private readonly Action<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _statisticsCombine;
    private readonly Action<Index1D, ElementGrid, ArrayView<float>, float, ArrayView<float>> _invStdFromVariance;
    private readonly Action<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>> _normalize;
    private readonly Action<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>> _gradientPartial;
    private readonly Action<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _gradientCombine;
    private readonly Action<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _inputGradient;

    private readonly Accelerator _accelerator;

    public BatchNormOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _statisticsPartial = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            BatchNormKernels.StatisticsPartial);
        _statisticsCombine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BatchNormKernels.StatisticsCombine);
        _invStdFromVariance = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, float, ArrayView<float>>(
            BatchNormKernels.InvStdFromVariance);
        _normalize = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>>(BatchNormKernels.Normalize);
        _gradientPartial = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>>(BatchNormKernels.GradientPartial);
        _gradientCombine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            BatchNormKernels.GradientCombine);
        _inputGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, BatchNormShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BatchNormKernels.InputGradient);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static BatchNormOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new BatchNormOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(BatchNormOps), BatchNormKernels.StatisticsPartial),
        KernelEntryPoint.AutoGrouped(nameof(BatchNormOps), BatchNormKernels.StatisticsCombine),
        KernelEntryPoint.AutoGrouped(nameof(BatchNormOps), BatchNormKernels.InvStdFromVariance),
        KernelEntryPoint.AutoGrouped(nameof(BatchNormOps), BatchNormKernels.Normalize),
        KernelEntryPoint.AutoGrouped(nameof(BatchNormOps), BatchNormKernels.GradientPartial),
        KernelEntryPoint.AutoGrouped(nameof(BatchNormOps), BatchNormKernels.GradientCombine),
        KernelEntryPoint.AutoGrouped(nameof(BatchNormOps), BatchNormKernels.InputGradient),
    ];

    /// <summary>
    /// Training statistics of <paramref name="input"/> [N,C,H,W]: writes savedMean[C] and savedInvStd[C] =
    /// 1/√(biased var + eps), and updates runningMean/runningVar in place with <paramref name="momentum"/> (PyTorch:
    /// 0.1) and the unbiased variance. <paramref name="scratch"/> needs <see cref="BatchNormShape.ScratchLength"/>.
    /// </summary>
    public void Statistics(BatchNormShape shape, ArrayView<float> input, float momentum, float eps,
        ArrayView<float> savedMean, ArrayView<float> savedInvStd, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> scratch)
    {
        const string operation = "BatchNormOps.Statistics";
        if (shape.Count < 2)
            throw new ArgumentException(
                $"{operation}: training needs more than one value per channel (N·H·W = {shape.Count}); use a larger batch.");
        CheckElements(shape, operation, input, nameof(input));
        CheckChannels(shape, operation, (savedMean, nameof(savedMean)), (savedInvStd, nameof(savedInvStd)),
            (runningMean, nameof(runningMean)), (runningVar, nameof(runningVar)));
        ViewChecks.RequireLength(scratch, BatchNormShape.ScratchLength(shape.C), operation, nameof(scratch));
        var (partialMean, partialM2) = SplitScratch(shape, scratch);
        var partials = ElementGrid.For(_accelerator, shape.C * shape.Partials);
        _statisticsPartial(partials.Threads, partials, shape, input, partialMean, partialM2);
        var channels = ElementGrid.For(_accelerator, shape.C);
        _statisticsCombine(channels.Threads, channels, shape, input, partialMean, partialM2, momentum, eps, savedMean, savedInvStd, runningMean, runningVar);
    }

    /// <summary>invStd[c] = 1/√(variance[c] + eps) for the first <paramref name="channels"/> channels.</summary>
    public void InvStdFromVariance(int channels, ArrayView<float> variance, float eps, ArrayView<float> invStd)
    {
        const string operation = "BatchNormOps.InvStdFromVariance";
        ViewChecks.RequireLength(variance, channels, operation, nameof(variance));
        ViewChecks.RequireLength(invStd, channels, operation, nameof(invStd));
        var grid = ElementGrid.For(_accelerator, channels);
        _invStdFromVariance(grid.Threads, grid, variance, eps, invStd);
    }

    /// <summary>output = (input − mean[c])·invStd[c]·gamma[c] + beta[c] over [N,C,H,W].</summary>
    public void Normalize(BatchNormShape shape, ArrayView<float> input, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> output)
    {
        const string operation = "BatchNormOps.Normalize";
        CheckElements(shape, operation, input, nameof(input));
        ViewChecks.RequireLength(output, shape.Length, operation, nameof(output));
        CheckChannels(shape, operation, (mean, nameof(mean)), (invStd, nameof(invStd)), (gamma, nameof(gamma)), (beta, nameof(beta)));
        var grid = ElementGrid.For(_accelerator, shape.Length);
        if (shape.Length > 0) _normalize(grid.Threads, grid, shape, input, mean, invStd, gamma, beta, output);
    }

    /// <summary>gradGamma[c] = Σ dy·x̂ and gradBeta[c] = Σ dy for the training forward that saved mean/invStd;
    /// overwrites both. <paramref name="scratch"/> needs <see cref="BatchNormShape.ScratchLength"/>.</summary>
    public void ParameterGradients(BatchNormShape shape, ArrayView<float> input, ArrayView<float> gradOutput,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> scratch,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta)
    {
        const string operation = "BatchNormOps.ParameterGradients";
        if (shape.Count < 1) throw new ArgumentException($"{operation}: the batch is empty.");
        CheckElements(shape, operation, input, nameof(input));
        ViewChecks.RequireLength(gradOutput, shape.Length, operation, nameof(gradOutput));
        CheckChannels(shape, operation, (mean, nameof(mean)), (invStd, nameof(invStd)),
            (gradGamma, nameof(gradGamma)), (gradBeta, nameof(gradBeta)));
        ViewChecks.RequireLength(scratch, BatchNormShape.ScratchLength(shape.C), operation, nameof(scratch));
        var (partialDyXhat, partialDy) = SplitScratch(shape, scratch);
        var partials = ElementGrid.For(_accelerator, shape.C * shape.Partials);
        _gradientPartial(partials.Threads, partials, shape, input, gradOutput, mean, invStd, partialDyXhat, partialDy);
        var channels = ElementGrid.For(_accelerator, shape.C);
        _gradientCombine(channels.Threads, channels, shape, partialDyXhat, partialDy, gradGamma, gradBeta);
    }

    /// <summary>Training-mode gradInput from gradOutput and the gradients <see cref="ParameterGradients"/> wrote.</summary>
    public void InputGradient(BatchNormShape shape, ArrayView<float> input, ArrayView<float> gradOutput,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> gamma,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta, ArrayView<float> gradInput)
    {
        const string operation = "BatchNormOps.InputGradient";
        CheckElements(shape, operation, input, nameof(input));
        ViewChecks.RequireLength(gradOutput, shape.Length, operation, nameof(gradOutput));
        ViewChecks.RequireLength(gradInput, shape.Length, operation, nameof(gradInput));
        CheckChannels(shape, operation, (mean, nameof(mean)), (invStd, nameof(invStd)), (gamma, nameof(gamma)),
            (gradGamma, nameof(gradGamma)), (gradBeta, nameof(gradBeta)));
        var grid = ElementGrid.For(_accelerator, shape.Length);
        if (shape.Length > 0)
            _inputGradient(grid.Threads, grid, shape, input, gradOutput, mean, invStd, gamma, gradGamma, gradBeta, gradInput);
    }

    private static (ArrayView<float> First, ArrayView<float> Second) SplitScratch(BatchNormShape shape, ArrayView<float> scratch)
    {
        var half = (long)shape.C * BatchNormShape.MaxPartials;
        return (scratch.SubView(0, half), scratch.SubView(half, half));
    }

    private static void CheckElements(BatchNormShape shape, string operation, ArrayView<float> input, string name)
    {
        ViewChecks.RequireIndexable(shape.Length, operation);
        ViewChecks.RequireLength(input, shape.Length, operation, name);
    }

    private static void CheckChannels(BatchNormShape shape, string operation, params (ArrayView<float> View, string Name)[] views)
    {
        foreach (var (view, name) in views) ViewChecks.RequireLength(view, shape.C, operation, name);
    }
}
