using EnvNet.Kernels;

namespace EnvNet.Tests.References;

/// <summary>Float64 BatchNorm2d as PyTorch defines it, with two-pass statistics (mean first, then squared deviations).</summary>
public static class BatchNormReference
{
    public sealed record Statistics(double[] Mean, double[] BiasedVar, double[] UnbiasedVar, double[] InvStd);

    public static Statistics BatchStatistics(BatchNormShape s, float[] input, double eps)
    {
        var mean = new double[s.C];
        var biased = new double[s.C];
        var unbiased = new double[s.C];
        var invStd = new double[s.C];
        for (var c = 0; c < s.C; c++)
        {
            var values = ChannelValues(s, input, c).ToList();
            mean[c] = values.Average();
            var squares = values.Sum(v => (v - mean[c]) * (v - mean[c]));
            biased[c] = squares / s.Count;
            unbiased[c] = squares / (s.Count - 1);
            invStd[c] = 1 / Math.Sqrt(biased[c] + eps);
        }
        return new Statistics(mean, biased, unbiased, invStd);
    }

    /// <summary>y = (x − mean)·invStd·γ + β per channel, for training (batch statistics) and eval (running ones).</summary>
    public static double[] Normalize(BatchNormShape s, float[] input, double[] mean, double[] invStd, float[] gamma, float[] beta)
    {
        var output = new double[s.Length];
        for (var i = 0; i < output.Length; i++)
        {
            var c = (int)(i / s.Spatial % s.C);
            output[i] = (input[i] - mean[c]) * invStd[c] * gamma[c] + beta[c];
        }
        return output;
    }

    public static double[] EvalOutput(BatchNormShape s, float[] input, float[] runningMean, float[] runningVar,
        float[] gamma, float[] beta, double eps) =>
        Normalize(s, input, runningMean.Select(v => (double)v).ToArray(),
            runningVar.Select(v => 1 / Math.Sqrt(v + eps)).ToArray(), gamma, beta);

    /// <summary>PyTorch's update: running ← (1 − momentum)·running + momentum·batch statistic (unbiased variance).</summary>
    public static double[] RunningUpdate(double[] running, double[] batchStatistic, double momentum) =>
        running.Select((r, c) => (1 - momentum) * r + momentum * batchStatistic[c]).ToArray();

    /// <summary>Training-mode gradients: dγ = Σ dy·x̂, dβ = Σ dy, dx = γ·invStd/M·(M·dy − dβ − x̂·dγ), M = N·H·W.</summary>
    public static (double[] GradInput, double[] GradGamma, double[] GradBeta) Backward(BatchNormShape s, float[] input,
        float[] gradOutput, float[] gamma, double eps)
    {
        var stats = BatchStatistics(s, input, eps);
        var gradGamma = new double[s.C];
        var gradBeta = new double[s.C];
        for (var i = 0; i < s.Length; i++)
        {
            var c = (int)(i / s.Spatial % s.C);
            gradGamma[c] += gradOutput[i] * (input[i] - stats.Mean[c]) * stats.InvStd[c];
            gradBeta[c] += gradOutput[i];
        }
        var gradInput = new double[s.Length];
        double m = s.Count;
        for (var i = 0; i < s.Length; i++)
        {
            var c = (int)(i / s.Spatial % s.C);
            var xhat = (input[i] - stats.Mean[c]) * stats.InvStd[c];
            gradInput[i] = gamma[c] * stats.InvStd[c] / m * (m * gradOutput[i] - gradBeta[c] - xhat * gradGamma[c]);
        }
        return (gradInput, gradGamma, gradBeta);
    }

    private static IEnumerable<double> ChannelValues(BatchNormShape s, float[] input, int c)
    {
        for (var n = 0; n < s.N; n++)
            for (var p = 0; p < s.Spatial; p++)
                yield return input[((long)n * s.C + c) * s.Spatial + p];
    }
}
