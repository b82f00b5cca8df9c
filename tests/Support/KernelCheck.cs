using EnvNet.Kernels;
using EnvNet.Network;

namespace EnvNet.Tests;

/// <summary>Moving test data onto the test device and comparing kernel results with float64 references.</summary>
public static class KernelCheck
{
    /// <summary>2^-24: the unit roundoff of float32, the scale of every tolerance derived from a rounding bound.</summary>
    public const double Float32Roundoff = 1.0 / (1 << 24);

    public static DeviceTensor Upload(float[] values) => UploadTo(TestDevice.Cpu, values);

    public static DeviceTensor UploadTo(ComputeDevice device, float[] values)
    {
        var tensor = new DeviceTensor(device.Accelerator, values.Length);
        tensor.CopyFrom(values);
        return tensor;
    }

    /// <summary>Asserts |actual[i] − expected[i]| ≤ tolerance(i) for every element, and logs the error statistics
    /// (the numbers quoted for each kernel in reviews).</summary>
    public static ErrorStats AssertClose(string what, double[] expected, ReadOnlySpan<float> actual, Func<int, double> tolerance)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        var scale = expected.Length == 0 ? 0 : expected.Max(Math.Abs);
        double maxAbs = 0, maxRel = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= tolerance(i)))
                Assert.Fail($"{what}[{i}]: got {actual[i]:R}, expected {expected[i]:R} (error {error:E2} > tolerance {tolerance(i):E2}).");
            maxAbs = Math.Max(maxAbs, error);
            if (Math.Abs(expected[i]) >= 1e-3 * scale && expected[i] != 0) maxRel = Math.Max(maxRel, error / Math.Abs(expected[i]));
        }
        var stats = new ErrorStats(maxAbs, maxRel);
        Console.WriteLine($"[accuracy] {what}: {stats}");
        return stats;
    }
}
