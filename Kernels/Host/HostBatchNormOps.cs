using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>
/// BatchNorm2d on the host: the formulas of <see cref="BatchNormKernels"/>. The reductions (statistics, dγ, dβ) run one
/// channel per work item over its N planes in order; each plane is summed in float lanes over runs of at most
/// <see cref="Run"/> values and the runs are added in double, so the sums stay within a few float roundings of
/// exact without a compensated loop. Statistics are taken of the values shifted by the channel's first value, so the
/// variance Σ(x−K)² − (Σ(x−K))²/M does not cancel when |mean| ≫ std. The per-channel and per-plane passes are also
/// what the fused Conv→BN→ReLU op runs (<see cref="HostConvBatchNormReLUOp{TSimd, TVector}"/>), with the ReLU folded in.
/// </summary>
internal sealed unsafe class HostBatchNormOps<TSimd, TVector> : IBatchNormOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    public const int Run = 512;

    public void Statistics(BatchNormShape s, ArrayView<float> input, float momentum, float eps, ArrayView<float> savedMean,
        ArrayView<float> savedInvStd, ArrayView<float> runningMean, ArrayView<float> runningVar, ArrayView<float> scratch)
    {
        const string operation = "HostBatchNormOps.Statistics";
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        CheckChannels(s, operation, savedMean, savedInvStd, runningMean, runningVar);
        Statistics(s, HostView.Ptr(input), momentum, eps, HostView.Ptr(savedMean), HostView.Ptr(savedInvStd),
            HostView.Ptr(runningMean), HostView.Ptr(runningVar));
    }

    public void InvStdFromVariance(int channels, ArrayView<float> variance, float eps, ArrayView<float> invStd)
    {
        const string operation = "HostBatchNormOps.InvStdFromVariance";
        ViewChecks.RequireLength(variance, channels, operation, nameof(variance));
        ViewChecks.RequireLength(invStd, channels, operation, nameof(invStd));
        InvStdFromVariance(channels, HostView.Ptr(variance), eps, HostView.Ptr(invStd));
    }

    public void Normalize(BatchNormShape s, ArrayView<float> input, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> output)
    {
        const string operation = "HostBatchNormOps.Normalize";
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        ViewChecks.RequireLength(output, s.Length, operation, nameof(output));
        CheckChannels(s, operation, mean, invStd, gamma, beta);
        Normalize(s, HostView.Ptr(input), HostView.Ptr(mean), HostView.Ptr(invStd), HostView.Ptr(gamma), HostView.Ptr(beta),
            HostView.Ptr(output), relu: false);
    }

    public void ParameterGradients(BatchNormShape s, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> mean,
        ArrayView<float> invStd, ArrayView<float> scratch, ArrayView<float> gradGamma, ArrayView<float> gradBeta)
    {
        const string operation = "HostBatchNormOps.ParameterGradients";
        if (s.Count < 1) throw new ArgumentException($"{operation}: the batch is empty.");
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        ViewChecks.RequireLength(gradOutput, s.Length, operation, nameof(gradOutput));
        CheckChannels(s, operation, mean, invStd, gradGamma, gradBeta);
        ParameterGradients(s, HostView.Ptr(input), HostView.Ptr(gradOutput), HostView.Ptr(mean), HostView.Ptr(invStd), null, null,
            HostView.Ptr(gradGamma), HostView.Ptr(gradBeta));
    }

    public void InputGradient(BatchNormShape s, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> mean,
        ArrayView<float> invStd, ArrayView<float> gamma, ArrayView<float> gradGamma, ArrayView<float> gradBeta, ArrayView<float> gradInput)
    {
        const string operation = "HostBatchNormOps.InputGradient";
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        ViewChecks.RequireLength(gradOutput, s.Length, operation, nameof(gradOutput));
        ViewChecks.RequireLength(gradInput, s.Length, operation, nameof(gradInput));
        CheckChannels(s, operation, mean, invStd, gamma, gradGamma, gradBeta);
        InputGradient(s, HostView.Ptr(input), HostView.Ptr(gradOutput), HostView.Ptr(mean), HostView.Ptr(invStd), HostView.Ptr(gamma),
            null, HostView.Ptr(gradGamma), HostView.Ptr(gradBeta), HostView.Ptr(gradInput));
    }

    /// <summary>Batch mean and 1/√(biased var + eps) per channel; running statistics moved with the unbiased variance.</summary>
    public static void Statistics(BatchNormShape s, float* x, float momentum, float eps, float* mean, float* invStd, float* runningMean,
        float* runningVar)
    {
        if (s.Count < 2)
            throw new ArgumentException(
                $"BatchNorm2d: training needs more than one value per channel (N·H·W = {s.Count}); use a larger batch.");
        HostParallel.For(s.C, (_, c) =>
        {
            var shift = x[(long)c * s.Spatial];
            double sum = 0, squares = 0;
            for (var n = 0; n < s.N; n++)
            {
                var plane = x + ((long)n * s.C + c) * s.Spatial;
                for (var start = 0; start < s.Spatial; start += Run)
                {
                    var (runSum, runSquares) = ShiftedSums(plane + start, Math.Min(Run, s.Spatial - start), shift);
                    sum += runSum;
                    squares += runSquares;
                }
            }
            double count = s.Count;
            var m2 = Math.Max(0, squares - sum * sum / count);
            var channelMean = (float)(shift + sum / count);
            mean[c] = channelMean;
            invStd[c] = 1f / MathF.Sqrt((float)(m2 / count) + eps);
            runningMean[c] = (1f - momentum) * runningMean[c] + momentum * channelMean;
            runningVar[c] = (1f - momentum) * runningVar[c] + momentum * (float)(m2 / (count - 1));
        });
    }

    public static void InvStdFromVariance(int channels, float* variance, float eps, float* invStd)
    {
        for (var c = 0; c < channels; c++) invStd[c] = 1f / MathF.Sqrt(variance[c] + eps);
    }

    /// <summary>y = (x − mean[c])·invStd[c]·γ[c] + β[c], then ReLU when <paramref name="relu"/> (NaN kept, as PyTorch).</summary>
    public static void Normalize(BatchNormShape s, float* x, float* mean, float* invStd, float* gamma, float* beta, float* y, bool relu)
    {
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var c = plane % s.C;
            var offset = (long)plane * s.Spatial;
            var (vm, vi, vg, vb) = (TSimd.Broadcast(mean[c]), TSimd.Broadcast(invStd[c]), TSimd.Broadcast(gamma[c]), TSimd.Broadcast(beta[c]));
            var e = 0;
            for (; e + TSimd.Lanes <= s.Spatial; e += TSimd.Lanes)
            {
                var z = TSimd.Add(TSimd.Multiply(TSimd.Multiply(TSimd.Subtract(TSimd.Load(x + offset + e), vm), vi), vg), vb);
                TSimd.Store(relu ? TSimd.Relu(z) : z, y + offset + e);
            }
            for (; e < s.Spatial; e++)
            {
                var z = (x[offset + e] - mean[c]) * invStd[c] * gamma[c] + beta[c];
                y[offset + e] = !relu || z > 0f || float.IsNaN(z) ? z : 0f;
            }
        });
    }

    /// <summary>dγ[c] = Σ dz·x̂ and dβ[c] = Σ dz with dz = dy, or, with <paramref name="gamma"/> and <paramref name="beta"/>
    /// given, dz = dy where the ReLU after the normalisation passed its input (γ·x̂ + β &gt; 0), else 0.</summary>
    public static void ParameterGradients(BatchNormShape s, float* x, float* dy, float* mean, float* invStd, float* gamma, float* beta,
        float* gradGamma, float* gradBeta)
    {
        HostParallel.For(s.C, (_, c) =>
        {
            double dyXhat = 0, dySum = 0;
            var (g, b) = gamma == null ? (0f, 0f) : (gamma[c], beta[c]);
            for (var n = 0; n < s.N; n++)
            {
                var offset = ((long)n * s.C + c) * s.Spatial;
                for (var start = 0; start < s.Spatial; start += Run)
                {
                    var (runDyXhat, runDy) = GradientSums(x + offset + start, dy + offset + start, Math.Min(Run, s.Spatial - start),
                        mean[c], invStd[c], gamma != null, g, b);
                    dyXhat += runDyXhat;
                    dySum += runDy;
                }
            }
            gradGamma[c] = (float)dyXhat;
            gradBeta[c] = (float)dySum;
        });
    }

    /// <summary>dx = γ·invStd·(dz − dβ/M − x̂·dγ/M), in the plain kernel's order, dz as in <see cref="ParameterGradients(BatchNormShape, float*, float*, float*, float*, float*, float*, float*, float*)"/>.</summary>
    public static void InputGradient(BatchNormShape s, float* x, float* dy, float* mean, float* invStd, float* gamma, float* beta,
        float* gradGamma, float* gradBeta, float* dx)
    {
        float count = s.Count;
        var relu = beta != null;
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var c = plane % s.C;
            var offset = (long)plane * s.Spatial;
            var (meanC, invStdC, scale, dBeta, dGamma) = (mean[c], invStd[c], gamma[c] * invStd[c], gradBeta[c] / count, gradGamma[c] / count);
            var (vm, vi, vs, vdb, vdg) = (TSimd.Broadcast(meanC), TSimd.Broadcast(invStdC), TSimd.Broadcast(scale),
                TSimd.Broadcast(dBeta), TSimd.Broadcast(dGamma));
            var (vg, vb) = (TSimd.Broadcast(gamma[c]), TSimd.Broadcast(relu ? beta[c] : 0f));
            var e = 0;
            for (; e + TSimd.Lanes <= s.Spatial; e += TSimd.Lanes)
            {
                var xhat = TSimd.Multiply(TSimd.Subtract(TSimd.Load(x + offset + e), vm), vi);
                var g = TSimd.Load(dy + offset + e);
                if (relu) g = TSimd.WherePositive(TSimd.Add(TSimd.Multiply(xhat, vg), vb), g);
                TSimd.Store(TSimd.Multiply(vs, TSimd.Subtract(TSimd.Subtract(g, vdb), TSimd.Multiply(xhat, vdg))), dx + offset + e);
            }
            for (; e < s.Spatial; e++)
            {
                var xhat = (x[offset + e] - meanC) * invStdC;
                var g = !relu || xhat * gamma[c] + beta[c] > 0f ? dy[offset + e] : 0f;
                dx[offset + e] = scale * (g - dBeta - xhat * dGamma);
            }
        });
    }

    /// <summary>Σ(x − shift) and Σ(x − shift)² of one run, in float lanes, lanes added at the end.</summary>
    public static (double Sum, double Squares) ShiftedSums(float* x, int length, float shift)
    {
        var vShift = TSimd.Broadcast(shift);
        var (sum, squares) = (TSimd.Zero, TSimd.Zero);
        var e = 0;
        for (; e + TSimd.Lanes <= length; e += TSimd.Lanes)
        {
            var d = TSimd.Subtract(TSimd.Load(x + e), vShift);
            sum = TSimd.Add(sum, d);
            squares = TSimd.Add(squares, TSimd.Multiply(d, d));
        }
        double total = TSimd.Sum(sum), totalSquares = TSimd.Sum(squares);
        for (; e < length; e++)
        {
            var d = x[e] - shift;
            total += d;
            totalSquares += d * d;
        }
        return (total, totalSquares);
    }

    /// <summary>Σ dz·x̂ and Σ dz of one run, x̂ = (x − mean)·invStd, dz = dy, masked by γ·x̂ + β &gt; 0 when <paramref name="relu"/>.</summary>
    private static (double DyXhat, double Dy) GradientSums(float* x, float* dy, int length, float mean, float invStd, bool relu, float gamma, float beta)
    {
        var (vm, vi, vg, vb) = (TSimd.Broadcast(mean), TSimd.Broadcast(invStd), TSimd.Broadcast(gamma), TSimd.Broadcast(beta));
        var (dyXhat, dySum) = (TSimd.Zero, TSimd.Zero);
        var e = 0;
        for (; e + TSimd.Lanes <= length; e += TSimd.Lanes)
        {
            var g = TSimd.Load(dy + e);
            var xhat = TSimd.Multiply(TSimd.Subtract(TSimd.Load(x + e), vm), vi);
            if (relu) g = TSimd.WherePositive(TSimd.Add(TSimd.Multiply(xhat, vg), vb), g);
            dyXhat = TSimd.Add(dyXhat, TSimd.Multiply(g, xhat));
            dySum = TSimd.Add(dySum, g);
        }
        double a = TSimd.Sum(dyXhat), b = TSimd.Sum(dySum);
        for (; e < length; e++)
        {
            var xhat = (x[e] - mean) * invStd;
            var g = !relu || xhat * gamma + beta > 0f ? dy[e] : 0f;
            a += g * xhat;
            b += g;
        }
        return (a, b);
    }

    private static void CheckChannels(BatchNormShape s, string operation, params ArrayView<float>[] views)
    {
        foreach (var view in views) ViewChecks.RequireLength(view, s.C, operation, "channel parameter");
    }
}
