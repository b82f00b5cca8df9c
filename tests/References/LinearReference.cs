namespace EnvNet.Tests.References;

/// <summary>torch.nn.Linear in float64: y = x·Wᵀ + b with x [batch, in], W [out, in], b [out].</summary>
public static class LinearReference
{
    public static double[] Forward(float[] x, float[] weight, float[] bias, int batch, int inFeatures, int outFeatures)
    {
        var y = GemmReference.Multiply(x, weight, batch, outFeatures, inFeatures, false, true);
        for (var r = 0; r < batch; r++)
            for (var o = 0; o < outFeatures; o++) y[r * outFeatures + o] += bias[o];
        return y;
    }

    /// <summary>dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy.</summary>
    public static (double[] GradInput, double[] GradWeight, double[] GradBias) Backward(
        float[] x, float[] weight, float[] gradOutput, int batch, int inFeatures, int outFeatures)
    {
        var gradInput = GemmReference.Multiply(gradOutput, weight, batch, inFeatures, outFeatures, false, false);
        var gradWeight = GemmReference.Multiply(gradOutput, x, outFeatures, inFeatures, batch, true, false);
        var gradBias = new double[outFeatures];
        for (var r = 0; r < batch; r++)
            for (var o = 0; o < outFeatures; o++) gradBias[o] += gradOutput[r * outFeatures + o];
        return (gradInput, gradWeight, gradBias);
    }
}
