using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;
using ILGPU.Runtime;

namespace EnvNet.Tests;

[TestClass]
public sealed class Conv2dTests
{
    /// <summary>Odd sizes, EnvNet's kernels (1×8 with v2's stride (1,2), 8×13), stride above kernel (inputs no window
    /// reads) and padding on both axes; for the host kernels also rows longer than one block of positions (forward,
    /// input gradient) and than one weight-gradient block, one input channel with 8×13 taps (single-row tiles),
    /// channel counts that fill no whole tile, a vertical stride (which falls back to the plain kernels) and one over a
    /// single row, as WaveMsNet's first convolutions (the host runs it as stride 1), and more samples than one
    /// weight-gradient matrix product takes at few positions (a full group and a group of one).</summary>
    public static IEnumerable<object?[]> Shapes =>
        from shape in new[]
        {
            new Conv2dShape(2, 1, 1, 53, 3, 1, 8, sh: 1, sw: 2),
            new Conv2dShape(2, 3, 11, 37, 5, 3, 5, sh: 2, sw: 3, ph: 0, pw: 2),
            new Conv2dShape(2, 2, 12, 37, 3, 8, 13, ph: 3, pw: 6),
            new Conv2dShape(1, 5, 3, 37, 3, 2, 2, sh: 2, sw: 3, ph: 1),
            new Conv2dShape(2, 4, 1, 2600, 11, 1, 8),
            new Conv2dShape(2, 1, 20, 60, 9, 8, 13),
            new Conv2dShape(2, 3, 1, 301, 10, 1, 16, sw: 2),
            new Conv2dShape(2, 1, 1, 203, 4, 1, 21, sh: 5, sw: 5),
            new Conv2dShape(9, 3, 1, 502, 4, 1, 3),
        }
        from backend in TestDevice.Backends
        select new object?[] { shape, backend.Kernels, backend.Width };

    /// <summary>
    /// Tolerances are the classical rounding bounds scaled by Σ|terms| (the reference evaluated on |x|, |w|), so they
    /// hold for any data yet stay far below one missing or extra term. Forward and BackwardInput sum L ≤ Cin·KH·KW
    /// (resp. Cout·KH·KW) products in plain float (the host with fused multiply-adds, one rounding per term):
    /// |error| ≤ L·u·Σ|terms| (Higham, γ_L), u = 2^-24. The plain BackwardWeight sums compensated:
    /// |error| ≤ (3u + O(L·u²))·Σ|terms|, taken as 4u·Σ|terms|. The host's sums a term in one of 16 lanes (at most
    /// 2048/16 = 128 terms each), adds the lanes (a tree of depth 4), then the blocks of a sample and the samples in order:
    /// a summation tree of depth at most 128 + 4 + blocks + N, so |error| ≤ that·u·Σ|terms|.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(Shapes))]
    public void KernelsMatchFloat64Reference(Conv2dShape shape, KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(1);
        var x = TestData.Uniform(rng, (int)shape.InputLength);
        var w = TestData.Uniform(rng, (int)shape.WeightLength);
        var dy = TestData.Uniform(rng, (int)shape.OutputLength);
        using var ops = TestDevice.For(kernels, width).Kernels.Conv2d(shape, needsInputGradient: true);
        using var xDevice = KernelCheck.Upload(x);
        using var wDevice = KernelCheck.Upload(w);
        using var dyDevice = KernelCheck.Upload(dy);
        using var y = new DeviceTensor(TestDevice.Cpu.Accelerator, (int)shape.OutputLength);
        using var dx = new DeviceTensor(TestDevice.Cpu.Accelerator, (int)shape.InputLength);
        using var dw = new DeviceTensor(TestDevice.Cpu.Accelerator, (int)shape.WeightLength);

        ops.Forward(shape.N, xDevice.View, wDevice.View, y.View);
        ops.BackwardInput(shape.N, dyDevice.View, wDevice.View, dx.View);
        ops.BackwardWeight(shape.N, xDevice.View, dyDevice.View, dw.View);

        const double u = KernelCheck.Float32Roundoff;
        var (absX, absW, absDy) = (Abs(x), Abs(w), Abs(dy));
        var forwardTerms = Conv2dReference.Forward(shape, absX, absW);
        var inputTerms = Conv2dReference.BackwardInput(shape, absDy, absW);
        var weightTerms = Conv2dReference.BackwardWeight(shape, absX, absDy);
        double forwardL = shape.Cin * shape.KH * shape.KW, inputL = shape.Cout * shape.KH * shape.KW;
        KernelCheck.AssertClose($"Conv2d.Forward {shape} {kernels}", Conv2dReference.Forward(shape, x, w), y.ToArray(),
            i => forwardL * u * forwardTerms[i]);
        KernelCheck.AssertClose($"Conv2d.BackwardInput {shape} {kernels}", Conv2dReference.BackwardInput(shape, dy, w), dx.ToArray(),
            i => inputL * u * inputTerms[i]);
        // Host: each lane sums 2048/L products of a block, the L lanes are added in a tree, then the blocks and the
        // samples one by one.
        var weightL = kernels == KernelChoice.Plain ? 4
            : HostWeightGradientRoundings(TestDevice.Lanes(width!.Value), shape.OutH * (shape.W + 2 * shape.PW), shape.N);
        KernelCheck.AssertClose($"Conv2d.BackwardWeight {shape} {kernels}", Conv2dReference.BackwardWeight(shape, x, dy), dw.ToArray(),
            i => weightL * u * weightTerms[i]);
    }

    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void BackwardWeightOverwritesInsteadOfAccumulating(KernelChoice kernels, VectorWidth? width)
    {
        var shape = new Conv2dShape(2, 2, 3, 17, 3, 2, 5, sw: 2, pw: 1);
        var rng = new Random(2);
        var x = TestData.Uniform(rng, (int)shape.InputLength);
        var dy = TestData.Uniform(rng, (int)shape.OutputLength);
        using var xDevice = KernelCheck.Upload(x);
        using var dyDevice = KernelCheck.Upload(dy);
        using var dw = KernelCheck.Upload(Enumerable.Repeat(1000f, (int)shape.WeightLength).ToArray());
        using (var op = TestDevice.For(kernels, width).Kernels.Conv2d(shape, needsInputGradient: false))
            op.BackwardWeight(shape.N, xDevice.View, dyDevice.View, dw.View);
        var terms = Conv2dReference.BackwardWeight(shape, Abs(x), Abs(dy));
        KernelCheck.AssertClose($"Conv2d.BackwardWeight over a stale gradient {kernels}", Conv2dReference.BackwardWeight(shape, x, dy),
            dw.ToArray(), i => 4 * KernelCheck.Float32Roundoff * terms[i]);
    }

    /// <summary>
    /// Central differences of the layer (batch 2 of a buffer for 3, stride and padding on both axes). The layer is
    /// linear in input and weight, so differences with a large step are exact but for float32 rounding of the
    /// outputs the perturbed element touches: about 30 outputs × 20 terms × u ≈ 4e-5 at worst, typically far less.
    /// </summary>
    [TestMethod]
    public void LayerBackwardMatchesFiniteDifferences()
    {
        var rng = new Random(3);
        using var layer = new Conv2d(3, 2, 4, strideH: 1, strideW: 2, padH: 1, padW: 2);
        layer.Build(TestDevice.Cpu, [2, 5, 13], maxBatch: 3, needsInputGradient: true);
        layer.ResetParameters(rng);
        var input = TestData.Uniform(rng, 2 * 2 * 5 * 13);
        LayerGradientCheck.Check(layer, input, batch: 2, training: true, rng, step: 0.5, absTolerance: 4e-5, relTolerance: 0,
            maxChecksPerTensor: 80);
    }

    [TestMethod]
    public void LayerForwardMatchesReferenceForABatchSmallerThanItsBuffers()
    {
        var rng = new Random(4);
        using var layer = new Conv2d(4, 1, 8, strideW: 2);
        var outputShape = layer.Build(TestDevice.Cpu, [3, 1, 41], maxBatch: 5, needsInputGradient: false);
        CollectionAssert.AreEqual(new[] { 4, 1, 17 }, outputShape);
        layer.ResetParameters(rng);
        var input = TestData.Uniform(rng, 2 * 3 * 41);
        using var x = KernelCheck.Upload(input);
        var y = layer.Forward(x.View, new Pass(2, Training: true, Step: 0));

        var shape = new Conv2dShape(2, 3, 1, 41, 4, 1, 8, sw: 2);
        Assert.AreEqual(shape.OutputLength, y.Length, "the output view covers the pass's batch only");
        var output = new float[y.Length];
        y.CopyToCPU(output);
        var weight = layer.Weight.Value.ToArray();
        var terms = Conv2dReference.Forward(shape, Abs(input), Abs(weight));
        // L = Cin·KH·KW = 24 products per output: the γ_L bound of KernelsMatchFloat64Reference.
        KernelCheck.AssertClose("Conv2d layer forward", Conv2dReference.Forward(shape, input, weight), output,
            i => 24 * KernelCheck.Float32Roundoff * terms[i]);
        Assert.AreEqual(0, layer.Backward(y, new Pass(2, Training: true, Step: 0)).Length,
            "no input gradient when the layer was built without one");
    }

    [TestMethod]
    public void ResetParametersDrawsPyTorchsDefaultInRowMajorOrder()
    {
        using var layer = new Conv2d(5, 3, 4);
        layer.Build(TestDevice.Cpu, [2, 6, 9], maxBatch: 1, needsInputGradient: false);
        layer.ResetParameters(new Random(7));

        var (name, parameter) = layer.LocalParameters.Single();
        Assert.AreEqual("weight", name);
        CollectionAssert.AreEqual(new[] { 5, 2, 3, 4 }, parameter.Shape);
        var bound = 1 / Math.Sqrt(2 * 3 * 4);
        var rng = new Random(7);
        var expected = Enumerable.Range(0, 5 * 2 * 3 * 4).Select(_ => (float)(-bound + 2 * bound * rng.NextDouble())).ToArray();
        CollectionAssert.AreEqual(expected, parameter.Value.ToArray());
    }

    /// <summary>With a bias (WaveMsNet's convolutions have PyTorch's default one) and padding "same": forward against
    /// the reference plus the bias, and central differences for input, weight and bias (the linear layer's bound above).</summary>
    [TestMethod]
    public void LayerWithBiasAndSamePaddingMatchesReferenceAndFiniteDifferences()
    {
        var rng = new Random(5);
        using var layer = Conv2d.SamePadding(3, 3, 5, bias: true);
        CollectionAssert.AreEqual(new[] { 3, 4, 9 }, layer.Build(TestDevice.Cpu, [2, 4, 9], maxBatch: 3, needsInputGradient: true));
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, layer.StateDict().Select(e => e.Name).ToArray());
        layer.ResetParameters(rng);
        var input = TestData.Uniform(rng, 2 * 2 * 4 * 9);
        using var x = KernelCheck.Upload(input);
        var y = layer.Forward(x.View, new Pass(2, Training: true, Step: 0));
        var output = new float[y.Length];
        y.CopyToCPU(output);
        var shape = new Conv2dShape(2, 2, 4, 9, 3, 3, 5, ph: 1, pw: 2);
        var (weight, bias) = (layer.Weight.Value.ToArray(), layer.Bias!.Value.ToArray());
        var expected = Conv2dReference.Forward(shape, input, weight);
        var terms = Conv2dReference.Forward(shape, Abs(input), Abs(weight));
        var positions = shape.OutH * shape.OutW;
        for (var i = 0; i < expected.Length; i++) expected[i] += bias[i / positions % 3];
        KernelCheck.AssertClose("Conv2d layer forward with bias", expected, output,
            i => 31 * KernelCheck.Float32Roundoff * (terms[i] + Math.Abs(bias[i / positions % 3])));
        LayerGradientCheck.Check(layer, input, batch: 2, training: true, rng, step: 0.5, absTolerance: 4e-5, relTolerance: 0,
            maxChecksPerTensor: 60);
        Assert.ThrowsExactly<ArgumentException>(() => Conv2d.SamePadding(3, 2, 3));
    }

    [TestMethod]
    public void BuildRejectsAnInputThatIsNotAnImage()
    {
        using var layer = new Conv2d(5, 1, 8);
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            layer.Build(TestDevice.Cpu, [100], maxBatch: 1, needsInputGradient: false));
        StringAssert.Contains(error.Message, "(C,H,W)");
    }

    private static float[] Abs(float[] values) => values.Select(Math.Abs).ToArray();

    /// <summary>Roundings on the path of one weight-gradient element of the host convolution, whichever of its two forms
    /// runs: lane-wise dot products (2048/L products per lane in a block of 2048 positions, log2(L) adding the lanes,
    /// one per block of <paramref name="positions"/>, one per sample), or, over few positions, a matrix product per
    /// group of samples (a chain over the group's positions, one per 256-deep block, one per group; bounded by taking
    /// the whole batch as one chain with a rounding per sample).</summary>
    internal static int HostWeightGradientRoundings(int lanes, int positions, int samples) => Math.Max(
        2048 / lanes + System.Numerics.BitOperations.Log2((uint)lanes) + (positions + 2047) / 2048 + 1 + samples,
        samples * (positions + positions / 256 + 1) + 1);
}
