namespace EnvNet.Tests;

/// <summary>How far a float32 kernel result is from its float64 reference: the largest absolute error and the
/// largest error relative to the largest reference magnitude (normwise, so that near-zero outputs do not dominate).</summary>
public readonly record struct NormwiseErrorStats(double MaxAbsolute, double MaxRelative)
{
    public static NormwiseErrorStats Of(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"Comparing {actual.Length} values with {expected.Length}.");
        double maxError = 0, maxMagnitude = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            maxError = Math.Max(maxError, Math.Abs(actual[i] - expected[i]));
            maxMagnitude = Math.Max(maxMagnitude, Math.Abs(expected[i]));
        }
        return new NormwiseErrorStats(maxError, maxMagnitude == 0 ? maxError : maxError / maxMagnitude);
    }

    public override string ToString() => $"max abs error {MaxAbsolute:E2}, max rel error {MaxRelative:E2}";
}
