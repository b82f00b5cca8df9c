using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class Conv1dTests
{
    /// <summary>esc-learner's kinds: a strided long first kernel (80 taps, stride 4, as wavemxnet; AbdoliNet's 64 at
    /// stride 2 alike), "same" with an odd kernel (3) and with an even one (8: the extra zero on the right), stride
    /// above the kernel (inputs no window reads) and plain symmetric padding with stride.</summary>
    public static IEnumerable<object?[]> Shapes =>
        from shape in new[]
        {
            new Conv1dShape(2, 1, 203, 3, 80, s: 4),
            new Conv1dShape(2, 5, 37, 4, 3, padLeft: 1, padRight: 1),
            new Conv1dShape(2, 3, 29, 4, 8, padLeft: 3, padRight: 4),
            new Conv1dShape(1, 3, 41, 2, 3, s: 5),
            new Conv1dShape(2, 2, 40, 3, 5, s: 3, padLeft: 2, padRight: 2),
            new Conv1dShape(3, 9, 300, 17, 3, padLeft: 1, padRight: 1),
        }
        from backend in TestDevice.Backends
        select new object?[] { shape, backend.Kernels, backend.Width };

    /// <summary>Tolerances: the rounding bounds of Conv2dTests scaled by Σ|terms| — γ_L with L = Cin·K (forward, plus
    /// the bias) or Cout·K (input gradient) products in plain float, 4u for the plain kernels' compensated weight and
    /// bias gradients; on the host the weight gradient has Conv2dTests' summation-tree bound (the host Conv2d on one
    /// row) and the bias gradient HostBatchNorm's (runs of 512 in L lanes, 512/L deep per lane, the lanes added, runs added in double).</summary>
    [TestMethod]
    [DynamicData(nameof(Shapes))]
    public void KernelsMatchFloat64Reference(Conv1dShape shape, KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(1);
        var x = TestData.Uniform(rng, (int)shape.InputLength);
        var w = TestData.Uniform(rng, (int)shape.WeightLength);
        var b = TestData.Uniform(rng, shape.Cout);
        var dy = TestData.Uniform(rng, (int)shape.OutputLength);
        var accelerator = TestDevice.Cpu.Accelerator;
        // Every family runs a Conv1d as its 2-D convolution over (Cin, 1, L), planned for the shape.
        using var op = TestDevice.For(kernels, width).Kernels.Conv2d(shape.AsConv2d(), needsInputGradient: true);
        var biasOps = TestDevice.For(kernels, width).Kernels.ChannelBias;
        var biasShape = new ChannelBiasShape(shape.N, shape.Cout, shape.OutL);
        using var xDevice = KernelCheck.Upload(x);
        using var wDevice = KernelCheck.Upload(w);
        using var bDevice = KernelCheck.Upload(b);
        using var dyDevice = KernelCheck.Upload(dy);
        using var y = new DeviceTensor(accelerator, (int)shape.OutputLength);
        using var dx = new DeviceTensor(accelerator, (int)shape.InputLength);
        using var dw = KernelCheck.Upload(Enumerable.Repeat(1000f, (int)shape.WeightLength).ToArray());
        using var db = KernelCheck.Upload(Enumerable.Repeat(1000f, shape.Cout).ToArray());

        op.Forward(shape.N, xDevice.View, wDevice.View, y.View);
        biasOps.AddBias(biasShape, y.View, bDevice.View);
        op.BackwardInput(shape.N, dyDevice.View, wDevice.View, dx.View);
        op.BackwardWeight(shape.N, xDevice.View, dyDevice.View, dw.View);
        biasOps.BiasGradient(biasShape, dyDevice.View, db.View);

        const double u = KernelCheck.Float32Roundoff;
        var (absX, absW, absB, absDy) = (Abs(x), Abs(w), Abs(b), Abs(dy));
        var forwardTerms = Conv1dReference.Forward(shape, absX, absW, absB);
        var inputTerms = Conv1dReference.BackwardInput(shape, absDy, absW);
        var weightTerms = Conv1dReference.BackwardWeight(shape, absX, absDy);
        var biasTerms = Conv1dReference.BackwardBias(shape, absDy);
        double forwardL = shape.Cin * shape.K + 1, inputL = shape.Cout * shape.K;
        var host = kernels == KernelChoice.Host;
        var lanes = host ? TestDevice.Lanes(width!.Value) : 0;
        var weightL = host ? Conv2dTests.HostWeightGradientRoundings(lanes, shape.L + shape.PadLeft + shape.PadRight, shape.N) : 4;
        // Host bias gradient: runs of 512 values, 512/L per lane, the L lanes added, the runs added in double.
        var biasL = host ? 512 / lanes + lanes + 1 : 4;
        KernelCheck.AssertClose($"Conv1d.Forward {shape} {kernels}", Conv1dReference.Forward(shape, x, w, b), y.ToArray(),
            i => forwardL * u * forwardTerms[i]);
        KernelCheck.AssertClose($"Conv1d.BackwardInput {shape} {kernels}", Conv1dReference.BackwardInput(shape, dy, w), dx.ToArray(),
            i => inputL * u * inputTerms[i]);
        KernelCheck.AssertClose($"Conv1d.BackwardWeight {shape} {kernels}", Conv1dReference.BackwardWeight(shape, x, dy), dw.ToArray(),
            i => weightL * u * weightTerms[i]);
        KernelCheck.AssertClose($"Conv1d.BackwardBias {shape} {kernels}", Conv1dReference.BackwardBias(shape, dy), db.ToArray(),
            i => biasL * u * biasTerms[i]);
    }

    /// <summary>
    /// Central differences of the layer, with and without bias, strided with padding and "same" with an even kernel;
    /// batch 2 of a buffer for 3. The layer is linear in input, weight and bias, so a large step is exact but for the
    /// float32 rounding of the outputs the perturbed element touches (Conv2dTests' bound).
    /// </summary>
    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void LayerBackwardMatchesFiniteDifferences(KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(3);
        foreach (var layer in new[] { new Conv1d(3, 4, stride: 2, padding: 1), Conv1d.SamePadding(3, 4, bias: false) })
        {
            using var _ = layer;
            layer.Build(TestDevice.For(kernels, width), [2, 13], maxBatch: 3, needsInputGradient: true);
            layer.ResetParameters(rng);
            var input = TestData.Uniform(rng, 2 * 2 * 13);
            LayerGradientCheck.Check(layer, input, batch: 2, training: true, rng, step: 0.5, absTolerance: 4e-5, relTolerance: 0);
        }
    }

    [TestMethod]
    public void LayerReportsPyTorchsShapesAndNames()
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        using var strided = new Conv1d(256, 80, stride: 4);
        CollectionAssert.AreEqual(new[] { 256, 8000 }, strided.Build(TestDevice.Cpu, [1, 32079], maxBatch: 1, needsInputGradient: false));
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, strided.StateDict().Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 256, 1, 80 }, strided.Weight.Shape);
        CollectionAssert.AreEqual(new[] { 256 }, strided.Bias!.Shape);

        using var same = Conv1d.SamePadding(8, 4, bias: false);
        CollectionAssert.AreEqual(new[] { 8, 17 }, same.Build(TestDevice.Cpu, [3, 17], maxBatch: 1, needsInputGradient: false));
        CollectionAssert.AreEqual(new[] { "weight" }, same.StateDict().Select(e => e.Name).ToArray());
        Assert.IsNull(same.Bias);
        Assert.AreEqual((1, 2), Conv1dShape.SamePadding(4));
        Assert.AreEqual((1, 1), Conv1dShape.SamePadding(3));
    }

    [TestMethod]
    public void ResetParametersDrawsPyTorchsDefaultWeightThenBias()
    {
        using var layer = new Conv1d(5, 3);
        layer.Build(TestDevice.Cpu, [2, 9], maxBatch: 1, needsInputGradient: false);
        layer.ResetParameters(new Random(7));
        var bound = 1 / Math.Sqrt(2 * 3);
        var rng = new Random(7);
        var expected = Enumerable.Range(0, 5 * 2 * 3 + 5).Select(_ => (float)(-bound + 2 * bound * rng.NextDouble())).ToArray();
        CollectionAssert.AreEqual(expected[..30], layer.Weight.Value.ToArray());
        CollectionAssert.AreEqual(expected[30..], layer.Bias!.Value.ToArray());
    }

    [TestMethod]
    public void BuildRejectsAnInputThatIsNotASignal()
    {
        using var layer = new Conv1d(5, 8);
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            layer.Build(TestDevice.Cpu, [1, 1, 100], maxBatch: 1, needsInputGradient: false));
        StringAssert.Contains(error.Message, "(C,L)");
    }

    private static float[] Abs(float[] values) => values.Select(Math.Abs).ToArray();
}
