namespace EnvNet.Tests.References;

/// <summary>Float64 references of the activations.</summary>
public static class ActivationReference
{
    public static double[] ReluForward(float[] input) => input.Select(x => x > 0 || float.IsNaN(x) ? (double)x : 0).ToArray();

    /// <summary>PyTorch differentiates ReLU through its output: dx = dy where y &gt; 0 (so 0 at x = 0).</summary>
    public static double[] ReluBackward(float[] output, float[] gradOutput) =>
        output.Select((y, i) => y > 0 ? (double)gradOutput[i] : 0).ToArray();
}
