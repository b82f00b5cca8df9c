namespace EnvNet.Tests.References;

/// <summary>One step of torch.optim.Adadelta in float64, as PyTorch's _single_tensor_adadelta writes it: L2 weight
/// decay added to the gradient, square_avg ← ρ·square_avg + (1−ρ)·g², δ = √(acc_delta + eps) / √(square_avg + eps) · g,
/// acc_delta ← ρ·acc_delta + (1−ρ)·δ², p ← p − lr·δ.</summary>
public static class AdadeltaReference
{
    public static void Step(double[] parameter, float[] gradient, double[] squareAvg, double[] accDelta,
        double learningRate, double rho, double eps, double weightDecay)
    {
        for (var i = 0; i < parameter.Length; i++)
        {
            var g = gradient[i] + weightDecay * parameter[i];
            squareAvg[i] = rho * squareAvg[i] + (1 - rho) * g * g;
            var delta = Math.Sqrt(accDelta[i] + eps) / Math.Sqrt(squareAvg[i] + eps) * g;
            accDelta[i] = rho * accDelta[i] + (1 - rho) * delta * delta;
            parameter[i] -= learningRate * delta;
        }
    }
}
