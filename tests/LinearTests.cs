using ILGPU.Runtime;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class LinearTests
{
    private const int Batch = 5;
    private const int InFeatures = 70;
    private const int OutFeatures = 37;
    private const double Roundoff = 1.0 / (1 << 24);

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Rigorous bound for a float32 sum of n products (γ_n·Σ|terms|) when every factor lies in [-1, 1]:
    /// n·γ_n. Inputs, gradients and initial parameters (±1/√in) all do here.</summary>
    private static double DotProductTolerance(int terms) => terms * terms * Roundoff / (1 - terms * Roundoff);

    private static Linear BuildLayer(int seed, bool needsInputGradient = true)
    {
        var layer = new Linear(OutFeatures);
        layer.Build(TestDevice.Cpu.Accelerator, [InFeatures], Batch + 2, needsInputGradient);
        layer.ResetParameters(new Random(seed));
        return layer;
    }

    [TestMethod]
    public void ForwardAndBackwardMatchFloat64Reference()
    {
        var rng = new Random(1);
        using var layer = BuildLayer(2);
        var x = TestData.Uniform(rng, Batch * InFeatures);
        var gradOutput = TestData.Uniform(rng, Batch * OutFeatures);
        var weight = layer.Weight.Value.ToArray();
        var bias = layer.Bias.Value.ToArray();
        using var input = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, InFeatures);
        using var deviceGradOutput = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, OutFeatures);
        input.CopyFrom(x);
        deviceGradOutput.CopyFrom(gradOutput);
        var pass = new Pass(Batch, Training: true, Step: 0);

        var y = layer.Forward(input.View, pass).GetAsArray();
        var gradInput = layer.Backward(deviceGradOutput.View, pass).GetAsArray();

        var expectedY = LinearReference.Forward(x, weight, bias, Batch, InFeatures, OutFeatures);
        var (expectedGradInput, expectedGradWeight, expectedGradBias) =
            LinearReference.Backward(x, weight, gradOutput, Batch, InFeatures, OutFeatures);
        AssertClose(y, expectedY, DotProductTolerance(InFeatures + 1), "output"); // + 1: the bias
        AssertClose(gradInput, expectedGradInput, DotProductTolerance(OutFeatures), "input gradient");
        AssertClose(layer.Weight.Grad.ToArray(), expectedGradWeight, DotProductTolerance(Batch), "weight gradient");
        AssertClose(layer.Bias.Grad.ToArray(), expectedGradBias, DotProductTolerance(Batch), "bias gradient");
    }

    /// <summary>
    /// Central differences of L = Σ R⊙y (R random, so dL/dy = R) against the backward pass, on the float32 kernels.
    /// L is affine in every single input, weight and bias, so the difference quotient has no truncation error for
    /// any step; a large step h = 0.5 keeps the float32 rounding of L (about 1e-6 per output, 185 outputs) small
    /// after dividing by 2h. Tolerance 1e-3 against derivatives of order 0.1–1.
    /// </summary>
    [TestMethod]
    public void GradientsMatchFiniteDifferences()
    {
        const float step = 0.5f;
        var rng = new Random(3);
        using var layer = BuildLayer(4);
        var x = TestData.Uniform(rng, Batch * InFeatures);
        var projection = TestData.Uniform(rng, Batch * OutFeatures);
        using var input = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, InFeatures);
        using var gradOutput = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, OutFeatures);
        input.CopyFrom(x);
        gradOutput.CopyFrom(projection);
        var pass = new Pass(Batch, Training: true, Step: 0);

        layer.Forward(input.View, pass);
        var gradInput = layer.Backward(gradOutput.View, pass).GetAsArray();
        var gradWeight = layer.Weight.Grad.ToArray();
        var gradBias = layer.Bias.Grad.ToArray();

        double Loss()
        {
            var y = layer.Forward(input.View, pass).GetAsArray();
            double sum = 0;
            for (var i = 0; i < y.Length; i++) sum += (double)projection[i] * y[i];
            return sum;
        }

        void Check(DeviceTensor tensor, float[] analytic, string name)
        {
            var values = tensor.ToArray();
            var maxError = 0.0;
            foreach (var i in Enumerable.Range(0, 16).Select(_ => rng.Next(values.Length)))
            {
                var original = values[i];
                values[i] = original + step;
                tensor.CopyFrom(values);
                var plus = Loss();
                values[i] = original - step;
                tensor.CopyFrom(values);
                var minus = Loss();
                values[i] = original;
                tensor.CopyFrom(values);
                var numeric = (plus - minus) / (2 * step);
                maxError = Math.Max(maxError, Math.Abs(numeric - analytic[i]));
                Assert.AreEqual(numeric, analytic[i], 1e-3, $"{name}[{i}]");
            }
            TestContext.WriteLine($"{name}: max |finite difference − backward| {maxError:E2}");
        }

        Check(input, gradInput, "input");
        Check(layer.Weight.Value, gradWeight, "weight");
        Check(layer.Bias.Value, gradBias, "bias");
    }

    [TestMethod]
    public void ResetParametersDrawsWeightThenBiasUniformInPyTorchBound()
    {
        using var layer = BuildLayer(seed: 7);
        var rng = new Random(7);
        var bound = 1 / Math.Sqrt(InFeatures);
        var expected = Enumerable.Range(0, OutFeatures * InFeatures + OutFeatures)
            .Select(_ => (float)((rng.NextDouble() * 2 - 1) * bound)).ToArray();
        var actual = layer.Weight.Value.ToArray().Concat(layer.Bias.Value.ToArray()).ToArray();
        CollectionAssert.AreEqual(expected, actual);
        Assert.IsTrue(actual.All(v => Math.Abs(v) <= bound));
    }

    [TestMethod]
    public void FirstLayerReturnsNoInputGradientAndNamesItsParameters()
    {
        using var layer = BuildLayer(5, needsInputGradient: false);
        using var input = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, InFeatures);
        using var gradOutput = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, OutFeatures);
        var pass = new Pass(Batch, Training: true, Step: 0);
        layer.Forward(input.View, pass);
        Assert.AreEqual(0, layer.Backward(gradOutput.View, pass).Length);
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, layer.StateDict().Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new[] { OutFeatures, InFeatures }, layer.Weight.Shape);
    }

    [TestMethod]
    public void RejectsImageShapedInput()
    {
        using var layer = new Linear(4);
        var error = Assert.ThrowsExactly<ArgumentException>(() => layer.Build(TestDevice.Cpu.Accelerator, [2, 3, 5], 1, true));
        StringAssert.Contains(error.Message, "(2,3,5)");
    }

    private void AssertClose(float[] actual, double[] expected, double tolerance, string name)
    {
        var stats = ErrorStats.Of(actual, expected);
        TestContext.WriteLine($"{name}: {stats} (tolerance {tolerance:E2})");
        Assert.IsLessThanOrEqualTo(tolerance, stats.MaxAbsolute, name);
    }
}
