namespace EnvNet.Tests;

public static class TestData
{
    /// <summary><paramref name="n"/> values drawn uniformly from [lo, hi).</summary>
    public static float[] Uniform(Random rng, int n, float lo = -1, float hi = 1)
    {
        var values = new float[n];
        for (var i = 0; i < n; i++) values[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return values;
    }
}
