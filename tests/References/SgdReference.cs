namespace EnvNet.Tests.References;

/// <summary>One step of torch.optim.SGD (dampening 0) in float64, written as PyTorch's _single_tensor_sgd does it,
/// including its first step, where the momentum buffer is created as a copy of the gradient.</summary>
public static class SgdReference
{
    public static void Step(double[] parameter, float[] gradient, ref double[]? momentumBuffer,
        double learningRate, double momentum, double weightDecay, bool nesterov)
    {
        var g = new double[parameter.Length];
        for (var i = 0; i < g.Length; i++) g[i] = gradient[i] + weightDecay * parameter[i];

        if (momentumBuffer is null)
            momentumBuffer = (double[])g.Clone();
        else
            for (var i = 0; i < g.Length; i++) momentumBuffer[i] = momentum * momentumBuffer[i] + g[i];

        for (var i = 0; i < g.Length; i++)
        {
            var step = nesterov ? g[i] + momentum * momentumBuffer[i] : momentumBuffer[i];
            parameter[i] -= learningRate * step;
        }
    }
}
