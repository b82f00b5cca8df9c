namespace EnvNet.Tests.References;

/// <summary>One step of torch.optim.Adam (amsgrad off) in float64, as PyTorch's _single_tensor_adam writes it:
/// L2 weight decay added to the gradient, bias corrections 1 − β^t, eps added after dividing √v by √(1 − β2^t).</summary>
public static class AdamReference
{
    public static void Step(double[] parameter, float[] gradient, double[] expAvg, double[] expAvgSq, int step,
        double learningRate, double beta1, double beta2, double eps, double weightDecay)
    {
        var biasCorrection1 = 1 - Math.Pow(beta1, step);
        var biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
        for (var i = 0; i < parameter.Length; i++)
        {
            var g = gradient[i] + weightDecay * parameter[i];
            expAvg[i] = beta1 * expAvg[i] + (1 - beta1) * g;
            expAvgSq[i] = beta2 * expAvgSq[i] + (1 - beta2) * g * g;
            var denominator = Math.Sqrt(expAvgSq[i]) / biasCorrection2Sqrt + eps;
            parameter[i] -= learningRate / biasCorrection1 * expAvg[i] / denominator;
        }
    }
}
