namespace EnvNet.Tests;

/// <summary>Reproducible random test inputs.</summary>
public static class TestData
{
    /// <summary><paramref name="n"/> floats uniform in [lo, hi).</summary>
    public static float[] Uniform(Random rng, int n, float lo = -1, float hi = 1)
    {
        var values = new float[n];
        for (var i = 0; i < n; i++) values[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return values;
    }
}
