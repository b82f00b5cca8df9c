using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Cpu;

/// <summary>
/// BatchNorm2d on the host: the formulas of <see cref="BatchNormKernels"/>. The reductions (statistics, dγ, dβ) run one
/// channel per work item over its N planes in order; each plane is summed in 16 float lanes over runs of at most
/// <see cref="Run"/> values and the runs are added in double, so the sums stay within a few float roundings of
/// exact without a compensated loop. Statistics are taken of the values shifted by the channel's first value, so the
/// variance Σ(x−K)² − (Σ(x−K))²/M does not cancel when |mean| ≫ std.
/// </summary>
internal sealed unsafe class HostBatchNormOps : IBatchNormOps
{
    private const int Run = 512;

    public void Statistics(BatchNormShape s, ArrayView<float> input, float momentum, float eps, ArrayView<float> savedMean,
        ArrayView<float> savedInvStd, ArrayView<float> runningMean, ArrayView<float> runningVar, ArrayView<float> scratch)
    {
        const string operation = "HostBatchNormOps.Statistics";
        if (s.Count < 2)
            throw new ArgumentException($"{operation}: training needs more than one value per channel (N·H·W = {s.Count}); use a larger batch.");
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        var x = HostView.Ptr(input);
        var mean = HostView.Ptr(savedMean);
        var invStd = HostView.Ptr(savedInvStd);
        var rMean = HostView.Ptr(runningMean);
        var rVar = HostView.Ptr(runningVar);
        CheckChannels(s, operation, savedMean, savedInvStd, runningMean, runningVar);
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
            rMean[c] = (1f - momentum) * rMean[c] + momentum * channelMean;
            rVar[c] = (1f - momentum) * rVar[c] + momentum * (float)(m2 / (count - 1));
        });
    }

    public void InvStdFromVariance(int channels, ArrayView<float> variance, float eps, ArrayView<float> invStd)
    {
        const string operation = "HostBatchNormOps.InvStdFromVariance";
        ViewChecks.RequireLength(variance, channels, operation, nameof(variance));
        ViewChecks.RequireLength(invStd, channels, operation, nameof(invStd));
        var v = HostView.Ptr(variance);
        var result = HostView.Ptr(invStd);
        for (var c = 0; c < channels; c++) result[c] = 1f / MathF.Sqrt(v[c] + eps);
    }

    public void Normalize(BatchNormShape s, ArrayView<float> input, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> output)
    {
        const string operation = "HostBatchNormOps.Normalize";
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        ViewChecks.RequireLength(output, s.Length, operation, nameof(output));
        CheckChannels(s, operation, mean, invStd, gamma, beta);
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        var m = HostView.Ptr(mean);
        var i = HostView.Ptr(invStd);
        var g = HostView.Ptr(gamma);
        var b = HostView.Ptr(beta);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var c = plane % s.C;
            var offset = (long)plane * s.Spatial;
            var (vm, vi, vg, vb) = (Vector512.Create(m[c]), Vector512.Create(i[c]), Vector512.Create(g[c]), Vector512.Create(b[c]));
            var e = 0;
            for (; e + 16 <= s.Spatial; e += 16)
                ((Vector512.Load(x + offset + e) - vm) * vi * vg + vb).Store(y + offset + e);
            for (; e < s.Spatial; e++) y[offset + e] = (x[offset + e] - m[c]) * i[c] * g[c] + b[c];
        });
    }

    public void ParameterGradients(BatchNormShape s, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> mean,
        ArrayView<float> invStd, ArrayView<float> scratch, ArrayView<float> gradGamma, ArrayView<float> gradBeta)
    {
        const string operation = "HostBatchNormOps.ParameterGradients";
        if (s.Count < 1) throw new ArgumentException($"{operation}: the batch is empty.");
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        ViewChecks.RequireLength(gradOutput, s.Length, operation, nameof(gradOutput));
        CheckChannels(s, operation, mean, invStd, gradGamma, gradBeta);
        var x = HostView.Ptr(input);
        var dy = HostView.Ptr(gradOutput);
        var m = HostView.Ptr(mean);
        var i = HostView.Ptr(invStd);
        var dg = HostView.Ptr(gradGamma);
        var db = HostView.Ptr(gradBeta);
        HostParallel.For(s.C, (_, c) =>
        {
            double dyXhat = 0, dySum = 0;
            for (var n = 0; n < s.N; n++)
            {
                var offset = ((long)n * s.C + c) * s.Spatial;
                for (var start = 0; start < s.Spatial; start += Run)
                {
                    var (runDyXhat, runDy) = GradientSums(x + offset + start, dy + offset + start, Math.Min(Run, s.Spatial - start), m[c], i[c]);
                    dyXhat += runDyXhat;
                    dySum += runDy;
                }
            }
            dg[c] = (float)dyXhat;
            db[c] = (float)dySum;
        });
    }

    public void InputGradient(BatchNormShape s, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> mean,
        ArrayView<float> invStd, ArrayView<float> gamma, ArrayView<float> gradGamma, ArrayView<float> gradBeta, ArrayView<float> gradInput)
    {
        const string operation = "HostBatchNormOps.InputGradient";
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        ViewChecks.RequireLength(gradOutput, s.Length, operation, nameof(gradOutput));
        ViewChecks.RequireLength(gradInput, s.Length, operation, nameof(gradInput));
        CheckChannels(s, operation, mean, invStd, gamma, gradGamma, gradBeta);
        var x = HostView.Ptr(input);
        var dy = HostView.Ptr(gradOutput);
        var dx = HostView.Ptr(gradInput);
        var m = HostView.Ptr(mean);
        var i = HostView.Ptr(invStd);
        var g = HostView.Ptr(gamma);
        var dg = HostView.Ptr(gradGamma);
        var db = HostView.Ptr(gradBeta);
        float count = s.Count;
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var c = plane % s.C;
            var offset = (long)plane * s.Spatial;
            // dx = γ·invStd·(dy − dβ/M − x̂·dγ/M), in the plain kernel's order.
            var (meanC, invStdC, scale, dBeta, dGamma) = (m[c], i[c], g[c] * i[c], db[c] / count, dg[c] / count);
            var (vm, vi, vs, vdb, vdg) = (Vector512.Create(meanC), Vector512.Create(invStdC), Vector512.Create(scale),
                Vector512.Create(dBeta), Vector512.Create(dGamma));
            var e = 0;
            for (; e + 16 <= s.Spatial; e += 16)
            {
                var xhat = (Vector512.Load(x + offset + e) - vm) * vi;
                (vs * (Vector512.Load(dy + offset + e) - vdb - xhat * vdg)).Store(dx + offset + e);
            }
            for (; e < s.Spatial; e++)
            {
                var xhat = (x[offset + e] - meanC) * invStdC;
                dx[offset + e] = scale * (dy[offset + e] - dBeta - xhat * dGamma);
            }
        });
    }

    /// <summary>Σ(x − shift) and Σ(x − shift)² of one run, in 16 float lanes, lanes added in order.</summary>
    private static (double Sum, double Squares) ShiftedSums(float* x, int length, float shift)
    {
        var vShift = Vector512.Create(shift);
        var (sum, squares) = (Vector512<float>.Zero, Vector512<float>.Zero);
        var e = 0;
        for (; e + 16 <= length; e += 16)
        {
            var d = Vector512.Load(x + e) - vShift;
            sum += d;
            squares += d * d;
        }
        double total = Vector512.Sum(sum), totalSquares = Vector512.Sum(squares);
        for (; e < length; e++)
        {
            var d = x[e] - shift;
            total += d;
            totalSquares += d * d;
        }
        return (total, totalSquares);
    }

    /// <summary>Σ dy·x̂ and Σ dy of one run, x̂ = (x − mean)·invStd.</summary>
    private static (double DyXhat, double Dy) GradientSums(float* x, float* dy, int length, float mean, float invStd)
    {
        var (vm, vi) = (Vector512.Create(mean), Vector512.Create(invStd));
        var (dyXhat, dySum) = (Vector512<float>.Zero, Vector512<float>.Zero);
        var e = 0;
        for (; e + 16 <= length; e += 16)
        {
            var g = Vector512.Load(dy + e);
            dyXhat += g * ((Vector512.Load(x + e) - vm) * vi);
            dySum += g;
        }
        double a = Vector512.Sum(dyXhat), b = Vector512.Sum(dySum);
        for (; e < length; e++)
        {
            a += dy[e] * ((x[e] - mean) * invStd);
            b += dy[e];
        }
        return (a, b);
    }

    private static void CheckChannels(BatchNormShape s, string operation, params ArrayView<float>[] views)
    {
        foreach (var view in views) ViewChecks.RequireLength(view, s.C, operation, "channel parameter");
    }
}
