using ILGPU.Runtime;
using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Kernels.Plain;
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

    private static Linear BuildLayer(int seed, bool needsInputGradient = true, KernelChoice kernels = KernelChoice.Plain, VectorWidth? width = null)
    {
        var layer = new Linear(OutFeatures);
        layer.Build(TestDevice.For(kernels, width), [InFeatures], Batch + 2, needsInputGradient);
        layer.ResetParameters(new Random(seed));
        return layer;
    }

    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void ForwardAndBackwardMatchFloat64Reference(KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(1);
        using var layer = BuildLayer(2, kernels: kernels, width: width);
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
    /// any step; a large step h = 0.5 keeps the float32 rounding of L (about 1e-6 per output) small after dividing
    /// by 2h. Tolerance 1e-3 against derivatives of order 0.1–1. To need few passes, one pass perturbs one entry per
    /// independent part at once and reads each part's share of L: an input entry in every sample (it moves only that
    /// sample's row of y), a weight in every output row or every bias (each moves only its own column of y).
    /// </summary>
    [TestMethod]
    public void GradientsMatchFiniteDifferences()
    {
        const float step = 0.5f;
        var rng = new Random(3);
        using var layer = BuildLayer(4);
        using var input = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, InFeatures);
        using var gradOutput = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, OutFeatures);
        input.CopyFrom(TestData.Uniform(rng, Batch * InFeatures));
        var projection = TestData.Uniform(rng, Batch * OutFeatures);
        gradOutput.CopyFrom(projection);
        var pass = new Pass(Batch, Training: true, Step: 0);

        layer.Forward(input.View, pass);
        var gradInput = layer.Backward(gradOutput.View, pass).GetAsArray();
        var gradWeight = layer.Weight.Grad.ToArray();
        var gradBias = layer.Bias.Grad.ToArray();

        // Share of L of each sample (part = row of y) or of each output unit (part = column of y).
        double[] Shares(bool bySample)
        {
            var y = layer.Forward(input.View, pass).GetAsArray();
            var shares = new double[bySample ? Batch : OutFeatures];
            for (var i = 0; i < y.Length; i++) shares[bySample ? i / OutFeatures : i % OutFeatures] += (double)projection[i] * y[i];
            return shares;
        }

        // entries[part] is the flat index, in tensor, of the entry perturbed for that part.
        void Check(DeviceTensor tensor, float[] analytic, int[] entries, bool bySample, string name)
        {
            var values = tensor.ToArray();
            float[] Shifted(float delta)
            {
                var shifted = (float[])values.Clone();
                foreach (var i in entries) shifted[i] += delta;
                return shifted;
            }
            tensor.CopyFrom(Shifted(step));
            var plus = Shares(bySample);
            tensor.CopyFrom(Shifted(-step));
            var minus = Shares(bySample);
            tensor.CopyFrom(values);

            var maxError = 0.0;
            for (var part = 0; part < entries.Length; part++)
            {
                var numeric = (plus[part] - minus[part]) / (2 * step);
                maxError = Math.Max(maxError, Math.Abs(numeric - analytic[entries[part]]));
                Assert.AreEqual(numeric, analytic[entries[part]], 1e-3, $"{name}[{entries[part]}]");
            }
            TestContext.WriteLine($"{name}: max |finite difference − backward| {maxError:E2} over {entries.Length} entries");
        }

        for (var round = 0; round < 3; round++)
            Check(input, gradInput, Enumerable.Range(0, Batch).Select(r => r * InFeatures + rng.Next(InFeatures)).ToArray(), true, "input");
        for (var round = 0; round < 2; round++)
            Check(layer.Weight.Value, gradWeight, Enumerable.Range(0, OutFeatures).Select(o => o * InFeatures + rng.Next(InFeatures)).ToArray(), false, "weight");
        Check(layer.Bias.Value, gradBias, Enumerable.Range(0, OutFeatures).ToArray(), false, "bias");
    }

    /// <summary>The bias kernels alone on more features than the CPU accelerator launches threads (so each thread
    /// loops over several features), not a multiple of them. Sums of 29 values in [-1, 1]: tolerance 29·γ_29.</summary>
    [TestMethod]
    public void BiasKernelsMatchReferenceOnManyRows()
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        const int rows = 29;
        var features = 2 * ElementGrid.For(accelerator, int.MaxValue).Threads + 7;
        var rng = new Random(9);
        var gradOutput = TestData.Uniform(rng, rows * features);
        var bias = TestData.Uniform(rng, features);
        using var matrix = new DeviceTensor(accelerator, rows, features);
        using var deviceBias = new DeviceTensor(accelerator, features);
        using var gradBias = new DeviceTensor(accelerator, features);
        matrix.CopyFrom(gradOutput);
        deviceBias.CopyFrom(bias);
        var ops = LinearOps.For(accelerator);

        ops.BiasGradient(matrix.View, gradBias.View, rows, features);
        ops.AddBias(matrix.View, deviceBias.View, rows, features);

        var expectedSums = new double[features];
        var expectedWithBias = new double[rows * features];
        for (var i = 0; i < rows * features; i++)
        {
            expectedSums[i % features] += gradOutput[i];
            expectedWithBias[i] = (double)gradOutput[i] + bias[i % features];
        }
        AssertClose(gradBias.ToArray(), expectedSums, DotProductTolerance(rows), "bias gradient");
        // One float32 addition of values in [-1, 1]: at most one rounding of a value below 2, 2^-23.
        AssertClose(matrix.ToArray(), expectedWithBias, 1.0 / (1 << 23), "bias added");
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
        var error = Assert.ThrowsExactly<ArgumentException>(() => layer.Build(TestDevice.Cpu, [2, 3, 5], 1, true));
        StringAssert.Contains(error.Message, "(2,3,5)");
    }

    private void AssertClose(float[] actual, double[] expected, double tolerance, string name)
    {
        var stats = ErrorStats.Of(actual, expected);
        TestContext.WriteLine($"{name}: {stats} (tolerance {tolerance:E2})");
        Assert.IsLessThanOrEqualTo(tolerance, stats.MaxAbsolute, name);
    }
}
