using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// BatchNorm2d followed by ReLU over a convolution's output y [N, C, Spatial], fused so that each large activation is
/// read or written once per pass: the batch statistics come from the convolution's epilogue (per-tile count, mean, M2,
/// combined here per channel), the forward is one pass y → max(0, (y − mean)·scale + β) with scale = invStd·γ, and the
/// backward is a reduction pass (Σdz, Σdz·x̂ with dz = da where the output was positive) then one pass writing dy.
/// The ReLU mask is recomputed from y with the forward's own expression (<see cref="Activation"/>), so no mask or
/// output is kept. Every reduction runs in a fixed order (no atomics): the same bits on every run.
/// </summary>
public static class BatchNormFusedKernels
{
    /// <summary>Threads of a per-channel combine group.</summary>
    public const int CombineThreads = 256;

    /// <summary>Threads of an element-wise group; each handles <see cref="ElementsPerThread"/> values of one plane.</summary>
    public const int ElementThreads = 256;
    public const int ElementsPerThread = 4;
    public const int ChunkLength = ElementThreads * ElementsPerThread;

    /// <summary>ReLU(BN(y)) as the forward computes it; NaN passes through as in PyTorch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activation(float y, float mean, float scale, float beta)
    {
        var z = (y - mean) * scale + beta;
        return z > 0f || float.IsNaN(z) ? z : 0f;
    }

    /// <summary>
    /// One group per channel (grid C, group <see cref="CombineThreads"/>): Chan's pairwise combination of the tiles'
    /// (count, mean, M2), thread k taking tiles k, k+256, … then a fixed tree. Writes the batch mean, invStd = 1/√(M2/n +
    /// eps), scale = invStd·γ, and moves the running statistics by momentum with the unbiased variance, as PyTorch.
    /// </summary>
    public static void CombineStatistics(ArrayView<float> statistics, int tiles, ArrayView<float> gamma, float momentum, float eps,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> scale, ArrayView<float> runningMean, ArrayView<float> runningVar)
    {
        var counts = SharedMemory.Allocate<float>(CombineThreads);
        var means = SharedMemory.Allocate<float>(CombineThreads);
        var m2s = SharedMemory.Allocate<float>(CombineThreads);
        var c = Grid.IdxX;
        var k = Group.IdxX;
        var entries = statistics.IntLength / 3;
        var channels = entries / tiles;
        var count = 0f;
        var channelMean = 0f;
        var m2 = 0f;
        for (var tile = k; tile < tiles; tile += CombineThreads)
        {
            var index = c * tiles + tile;
            Combine(ref count, ref channelMean, ref m2, statistics[index], statistics[entries + index], statistics[2 * entries + index]);
        }
        counts[k] = count;
        means[k] = channelMean;
        m2s[k] = m2;
        for (var half = CombineThreads / 2; half > 0; half /= 2)
        {
            Group.Barrier();
            if (k < half)
            {
                var (n, mu, s) = (counts[k], means[k], m2s[k]);
                Combine(ref n, ref mu, ref s, counts[k + half], means[k + half], m2s[k + half]);
                (counts[k], means[k], m2s[k]) = (n, mu, s);
            }
        }
        if (k != 0 || c >= channels) return;
        var total = counts[0];
        var batchMean = means[0];
        var sumSquares = m2s[0];
        var inverse = 1f / XMath.Sqrt(sumSquares / total + eps);
        mean[c] = batchMean;
        invStd[c] = inverse;
        scale[c] = inverse * gamma[c];
        runningMean[c] = (1f - momentum) * runningMean[c] + momentum * batchMean;
        runningVar[c] = (1f - momentum) * runningVar[c] + momentum * (sumSquares / (total - 1f));
    }

    /// <summary>Chan et al.: merges (nB, meanB, M2B) into (nA, meanA, M2A); an empty side changes nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Combine(ref float count, ref float mean, ref float m2, float otherCount, float otherMean, float otherM2)
    {
        var total = count + otherCount;
        if (otherCount == 0f) return;
        var delta = otherMean - mean;
        mean += delta * (otherCount / total);
        m2 += otherM2 + delta * delta * (count / total) * otherCount;
        count = total;
    }

    /// <summary>Eval mode: invStd = 1/√(running var + eps), scale = invStd·γ; one iteration per channel.</summary>
    public static void EvalScale(Index1D thread, ElementGrid grid, ArrayView<float> runningVar, ArrayView<float> gamma, float eps,
        ArrayView<float> invStd, ArrayView<float> scale)
    {
        for (int c = thread; c < grid.Count; c += grid.Threads)
        {
            var inverse = 1f / XMath.Sqrt(runningVar[c] + eps);
            invStd[c] = inverse;
            scale[c] = inverse * gamma[c];
        }
    }

    /// <summary>output = ReLU((y − mean)·scale + β). Grid (⌈spatial/ChunkLength⌉, N·C), group ElementThreads: a group
    /// covers one chunk of one (n, c) plane, so the channel is uniform and reads are consecutive.</summary>
    public static void NormalizeRelu(ArrayView<float> y, int channels, int spatial, ArrayView<float> mean, ArrayView<float> scale,
        ArrayView<float> beta, ArrayView<float> output)
    {
        var plane = Grid.IdxY;
        var c = plane % channels;
        var (m, sc, b) = (mean[c], scale[c], beta[c]);
        var first = Grid.IdxX * ChunkLength + Group.IdxX;
        var offset = plane * spatial;
        for (var k = 0; k < ElementsPerThread; k++)
        {
            var i = first + k * ElementThreads;
            if (i < spatial) output[offset + i] = Activation(y[offset + i], m, sc, b);
        }
    }

    /// <summary>
    /// Per (plane, chunk) group: Σdz and Σdz·x̂ with dz = da where ReLU(BN(y)) &gt; 0, x̂ = (y − mean)·invStd; summed per
    /// thread, then by a fixed tree in shared memory. Writes partial[c·P + p] and partial[C·P + c·P + p], p = n·chunks + chunk.
    /// </summary>
    public static void GradientPartial(ArrayView<float> y, ArrayView<float> gradOutput, int channels, int spatial,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> scale, ArrayView<float> beta, ArrayView<float> partial)
    {
        var dzSums = SharedMemory.Allocate<float>(ElementThreads);
        var dzXhatSums = SharedMemory.Allocate<float>(ElementThreads);
        var plane = Grid.IdxY;
        var n = plane / channels;
        var c = plane % channels;
        var (m, inv, sc, b) = (mean[c], invStd[c], scale[c], beta[c]);
        var t = Group.IdxX;
        var first = Grid.IdxX * ChunkLength + t;
        var offset = plane * spatial;
        var dzSum = 0f;
        var dzXhatSum = 0f;
        for (var k = 0; k < ElementsPerThread; k++)
        {
            var i = first + k * ElementThreads;
            if (i >= spatial) continue;
            var value = y[offset + i];
            var dz = Activation(value, m, sc, b) > 0f ? gradOutput[offset + i] : 0f;
            dzSum += dz;
            dzXhatSum += dz * ((value - m) * inv);
        }
        dzSums[t] = dzSum;
        dzXhatSums[t] = dzXhatSum;
        for (var half = ElementThreads / 2; half > 0; half /= 2)
        {
            Group.Barrier();
            if (t < half)
            {
                dzSums[t] += dzSums[t + half];
                dzXhatSums[t] += dzXhatSums[t + half];
            }
        }
        if (t != 0) return;
        var chunks = Grid.DimX;
        var perChannel = partial.IntLength / (2 * channels);
        var index = c * perChannel + n * chunks + Grid.IdxX;
        partial[index] = dzSums[0];
        partial[channels * perChannel + index] = dzXhatSums[0];
    }

    /// <summary>One group per channel: dβ = Σdz and dγ = Σdz·x̂ over the partials (compensated per thread, then a fixed
    /// tree); overwrites the parameter gradients.</summary>
    public static void GradientCombine(ArrayView<float> partial, int partials, ArrayView<float> gradGamma, ArrayView<float> gradBeta)
    {
        var dzSums = SharedMemory.Allocate<float>(CombineThreads);
        var dzXhatSums = SharedMemory.Allocate<float>(CombineThreads);
        var c = Grid.IdxX;
        var k = Group.IdxX;
        var channels = Grid.DimX;
        var perChannel = partial.IntLength / (2 * channels);
        var dz = new CompensatedSum();
        var dzXhat = new CompensatedSum();
        for (var p = k; p < partials; p += CombineThreads)
        {
            dz.Add(partial[c * perChannel + p]);
            dzXhat.Add(partial[(channels + c) * perChannel + p]);
        }
        dzSums[k] = dz.Value;
        dzXhatSums[k] = dzXhat.Value;
        for (var half = CombineThreads / 2; half > 0; half /= 2)
        {
            Group.Barrier();
            if (k < half)
            {
                dzSums[k] += dzSums[k + half];
                dzXhatSums[k] += dzXhatSums[k + half];
            }
        }
        if (k != 0) return;
        gradBeta[c] = dzSums[0];
        gradGamma[c] = dzXhatSums[0];
    }

    /// <summary>dy = γ·invStd·(dz − dβ/M − x̂·dγ/M), M = N·Spatial (PyTorch's order), dz recomputed from y and da.
    /// Same grid as <see cref="NormalizeRelu"/>.</summary>
    public static void InputGradient(ArrayView<float> y, ArrayView<float> gradOutput, int channels, int spatial, float count,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> scale, ArrayView<float> beta,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta, ArrayView<float> gradInput)
    {
        var plane = Grid.IdxY;
        var c = plane % channels;
        var (m, inv, sc, b) = (mean[c], invStd[c], scale[c], beta[c]);
        var meanDz = gradBeta[c] / count;
        var meanDzXhat = gradGamma[c] / count;
        var first = Grid.IdxX * ChunkLength + Group.IdxX;
        var offset = plane * spatial;
        for (var k = 0; k < ElementsPerThread; k++)
        {
            var i = first + k * ElementThreads;
            if (i >= spatial) continue;
            var value = y[offset + i];
            var dz = Activation(value, m, sc, b) > 0f ? gradOutput[offset + i] : 0f;
            // scale = γ·invStd, the factor in front.
            gradInput[offset + i] = sc * (dz - meanDz - (value - m) * inv * meanDzXhat);
        }
    }
}

/// <summary>The fused BatchNorm+ReLU kernels loaded once for one accelerator.</summary>
public sealed class BatchNormFusedOps
{
    private static readonly ConditionalWeakTable<Accelerator, BatchNormFusedOps> Shared = new();

    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<float>, float, float, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>> _combineStatistics;
    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, float, ArrayView<float>, ArrayView<float>> _evalScale;
    private readonly Action<KernelConfig, ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _normalizeRelu;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>> _gradientPartial;
    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<float>, ArrayView<float>> _gradientCombine;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, float, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _inputGradient;

    private readonly Accelerator _accelerator;

    public BatchNormFusedOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _combineStatistics = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<float>, float, float, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>>(BatchNormFusedKernels.CombineStatistics);
        _evalScale = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, float, ArrayView<float>, ArrayView<float>>(
            BatchNormFusedKernels.EvalScale);
        _normalizeRelu = accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            BatchNormFusedKernels.NormalizeRelu);
        _gradientPartial = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>>(BatchNormFusedKernels.GradientPartial);
        _gradientCombine = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<float>, ArrayView<float>>(BatchNormFusedKernels.GradientCombine);
        _inputGradient = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BatchNormFusedKernels.InputGradient);
    }

    public static BatchNormFusedOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new BatchNormFusedOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.Explicit(nameof(BatchNormFusedOps), BatchNormFusedKernels.CombineStatistics),
        KernelEntryPoint.AutoGrouped(nameof(BatchNormFusedOps), BatchNormFusedKernels.EvalScale),
        KernelEntryPoint.Explicit(nameof(BatchNormFusedOps), BatchNormFusedKernels.NormalizeRelu),
        KernelEntryPoint.Explicit(nameof(BatchNormFusedOps), BatchNormFusedKernels.GradientPartial),
        KernelEntryPoint.Explicit(nameof(BatchNormFusedOps), BatchNormFusedKernels.GradientCombine),
        KernelEntryPoint.Explicit(nameof(BatchNormFusedOps), BatchNormFusedKernels.InputGradient),
    ];

    /// <summary>Chunks of a plane the element-wise passes split it into.</summary>
    public static int ChunksPerPlane(int spatial) => (spatial + BatchNormFusedKernels.ChunkLength - 1) / BatchNormFusedKernels.ChunkLength;

    /// <summary>Floats of the backward partial sums for <paramref name="batch"/> samples.</summary>
    public static long GradientPartialLength(int channels, int batch, int spatial) => 2L * channels * batch * ChunksPerPlane(spatial);

    /// <summary>Training statistics from the convolution's per-tile statistics ([3][C][tiles]); updates the running statistics.</summary>
    public void CombineStatistics(int channels, int tiles, ArrayView<float> statistics, ArrayView<float> gamma, float momentum, float eps,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> scale, ArrayView<float> runningMean, ArrayView<float> runningVar)
    {
        ViewChecks.RequireLength(statistics, 3L * channels * tiles, "BatchNormFusedOps.CombineStatistics", nameof(statistics));
        _combineStatistics(new KernelConfig(channels, BatchNormFusedKernels.CombineThreads), statistics.SubView(0, 3L * channels * tiles),
            tiles, gamma, momentum, eps, mean, invStd, scale, runningMean, runningVar);
    }

    public void EvalScale(int channels, ArrayView<float> runningVar, ArrayView<float> gamma, float eps, ArrayView<float> invStd, ArrayView<float> scale)
    {
        var grid = ElementGrid.For(_accelerator, channels);
        _evalScale(grid.Threads, grid, runningVar, gamma, eps, invStd, scale);
    }

    public void NormalizeRelu(int batch, int channels, int spatial, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> scale,
        ArrayView<float> beta, ArrayView<float> output)
    {
        Check(batch, channels, spatial, "BatchNormFusedOps.NormalizeRelu", y, output);
        _normalizeRelu(ElementConfig(batch, channels, spatial), y, channels, spatial, mean, scale, beta, output);
    }

    /// <summary>Parameter gradients (overwritten) of BN followed by ReLU, from y and the gradient of the ReLU output.</summary>
    public void ParameterGradients(int batch, int channels, int spatial, ArrayView<float> y, ArrayView<float> gradOutput,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> scale, ArrayView<float> beta, ArrayView<float> partial,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta)
    {
        Check(batch, channels, spatial, "BatchNormFusedOps.ParameterGradients", y, gradOutput);
        var length = GradientPartialLength(channels, batch, spatial);
        ViewChecks.RequireLength(partial, length, "BatchNormFusedOps.ParameterGradients", nameof(partial));
        var exact = partial.SubView(0, length);
        _gradientPartial(ElementConfig(batch, channels, spatial), y, gradOutput, channels, spatial, mean, invStd, scale, beta, exact);
        _gradientCombine(new KernelConfig(channels, BatchNormFusedKernels.CombineThreads), exact,
            batch * ChunksPerPlane(spatial), gradGamma, gradBeta);
    }

    /// <summary>Gradient of the convolution output (overwritten) after <see cref="ParameterGradients"/>.</summary>
    public void InputGradient(int batch, int channels, int spatial, ArrayView<float> y, ArrayView<float> gradOutput,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> scale, ArrayView<float> beta,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta, ArrayView<float> gradInput)
    {
        Check(batch, channels, spatial, "BatchNormFusedOps.InputGradient", y, gradOutput);
        ViewChecks.RequireLength(gradInput, (long)batch * channels * spatial, "BatchNormFusedOps.InputGradient", nameof(gradInput));
        _inputGradient(ElementConfig(batch, channels, spatial), y, gradOutput, channels, spatial, (float)batch * spatial,
            mean, invStd, scale, beta, gradGamma, gradBeta, gradInput);
    }

    private static KernelConfig ElementConfig(int batch, int channels, int spatial) =>
        new(ElementPassGrid(batch, channels, spatial), new Index2D(BatchNormFusedKernels.ElementThreads, 1));

    /// <summary>Grid of the element-wise passes (groups of <see cref="BatchNormFusedKernels.ElementThreads"/>): one
    /// group per chunk of a plane in x, one (n, c) plane per row in y.</summary>
    public static Index2D ElementPassGrid(int batch, int channels, int spatial) => new(ChunksPerPlane(spatial), batch * channels);

    private static void Check(int batch, int channels, int spatial, string operation, ArrayView<float> first, ArrayView<float> second)
    {
        var length = (long)batch * channels * spatial;
        ViewChecks.RequireIndexable(length, operation);
        ViewChecks.RequireLength(first, length, operation, "y");
        ViewChecks.RequireLength(second, length, operation, "second tensor");
        if (batch * channels > ushort.MaxValue)
            throw new ArgumentException($"{operation}: batch × channels = {batch * channels} exceeds the grid's 65535 rows.");
    }
}
