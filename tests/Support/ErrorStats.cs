namespace EnvNet.Tests;

/// <summary>How far a float32 kernel result is from its float64 reference: the largest absolute error and a relative
/// error. <see cref="Of"/> takes it normwise (over the largest reference magnitude, so near-zero outputs do not
/// dominate); KernelCheck.AssertClose takes it element-wise over the elements with |expected| ≥ 1e-3·max|expected|.</summary>
public readonly record struct ErrorStats(double MaxAbsolute, double MaxRelative)
{
    public static ErrorStats Of(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"Comparing {actual.Length} values with {expected.Length}.");
        double maxError = 0, maxMagnitude = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            maxError = Math.Max(maxError, Math.Abs(actual[i] - expected[i]));
            maxMagnitude = Math.Max(maxMagnitude, Math.Abs(expected[i]));
        }
        return new ErrorStats(maxError, maxMagnitude == 0 ? maxError : maxError / maxMagnitude);
    }

    public override string ToString() => $"max abs error {MaxAbsolute:E2}, max rel error {MaxRelative:E2}";
}
