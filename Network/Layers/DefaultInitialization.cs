namespace EnvNet.Network.Layers;

/// <summary>
/// PyTorch's default initialisation of Linear, Conv1d and Conv2d: kaiming_uniform_(a = √5) for the weight and the
/// bias's own rule both come to U(−b, b) with b = 1/√fan_in, fan_in being the inputs to one output (in features, or
/// in channels × kernel size). Values are drawn in order, weight then bias, as torch's uniform_ computes them:
/// from + (to − from)·u.
/// </summary>
internal static class DefaultInitialization
{
    public static void Reset(Random rng, int fanIn, Parameter weight, Parameter? bias)
    {
        var bound = 1.0 / Math.Sqrt(fanIn);
        weight.Value.CopyFrom(Uniform(rng, weight.Value.Length, bound));
        bias?.Value.CopyFrom(Uniform(rng, bias.Value.Length, bound));
    }

    private static float[] Uniform(Random rng, long count, double bound)
    {
        var values = new float[count];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(-bound + 2 * bound * rng.NextDouble());
        return values;
    }
}
