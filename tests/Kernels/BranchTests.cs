using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>The containers of parallel branches, Concat and Residual: forward against float64 references built from
/// their children's references, PyTorch's state names, and finite differences through children and input; and the
/// squeeze that brings a branch's output to the shape the join wants.</summary>
[TestClass]
public sealed class BranchTests
{
    private const double U = KernelCheck.Float32Roundoff;

    /// <summary>Three branches on one (2, 11) input: two convolutions with bias and an average pool, joined into 3 + 4 +
    /// 2 channels. Each part keeps its own rounding bound (γ_L·Σ|terms| for the convolutions, (K + 1)·u·Σ|terms| for
    /// the average); the join copies.</summary>
    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void ConcatJoinsBranchOutputsAlongChannels(KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(51);
        using var concat = NewConcat(stackAsImageRows: false);
        CollectionAssert.AreEqual(new[] { 9, 11 }, concat.Build(TestDevice.For(kernels, width), [2, 11], maxBatch: 3, needsInputGradient: false));
        CollectionAssert.AreEqual(new[] { "narrow.weight", "narrow.bias", "wide.weight", "wide.bias" },
            concat.StateDict().Select(e => e.Name).ToArray());
        concat.ResetParameters(rng);
        var input = TestData.Uniform(rng, 2 * 2 * 11);
        using var x = KernelCheck.Upload(input);
        var y = Read(concat.Forward(x.View, new Pass(2, Training: true, Step: 0)));

        var (narrow, wide) = ((Conv1d)concat.Children.First().Layer, (Conv1d)concat.Children.ElementAt(1).Layer);
        var narrowShape = new Conv1dShape(2, 2, 11, 3, 3, padLeft: 1, padRight: 1);
        var wideShape = new Conv1dShape(2, 2, 11, 4, 5, padLeft: 2, padRight: 2);
        var averageShape = new WindowPoolShape(2, 2, 1, 11, 1, 3, 1, 1, pw: 1);
        (double[] Value, double[] Tolerance) Conv(Conv1d layer, Conv1dShape shape)
        {
            var (w, b) = (layer.Weight.Value.ToArray(), layer.Bias!.Value.ToArray());
            var terms = Conv1dReference.Forward(shape, Abs(input), Abs(w), Abs(b));
            return (Conv1dReference.Forward(shape, input, w, b), terms.Select(t => (shape.Cin * shape.K + 1) * U * t).ToArray());
        }
        var narrowPart = Conv(narrow, narrowShape);
        var widePart = Conv(wide, wideShape);
        var averagePart = (WindowPoolReference.AverageForward(averageShape, input),
            WindowPoolReference.AverageForward(averageShape, Abs(input)).Select(t => 4 * U * t).ToArray());
        var expected = BranchReference.ConcatChannels(2, 11, (narrowPart.Item1, 3), (widePart.Item1, 4), (averagePart.Item1, 2));
        var tolerance = BranchReference.ConcatChannels(2, 11, (narrowPart.Item2, 3), (widePart.Item2, 4), (averagePart.Item2, 2));
        KernelCheck.AssertClose($"Concat forward {kernels}", expected, y, i => tolerance[i]);
    }

    /// <summary>WaveMsNet's layout: (C_i, L) branch outputs stacked as the rows of one (1, ΣC_i, L) image, the same
    /// values as the channel join.</summary>
    [TestMethod]
    public void ConcatCanStackSignalsAsImageRows()
    {
        var rng = new Random(52);
        using var rows = NewConcat(stackAsImageRows: true);
        using var channels = NewConcat(stackAsImageRows: false);
        CollectionAssert.AreEqual(new[] { 1, 9, 11 }, rows.Build(TestDevice.Cpu, [2, 11], maxBatch: 2, needsInputGradient: false));
        channels.Build(TestDevice.Cpu, [2, 11], maxBatch: 2, needsInputGradient: false);
        rows.ResetParameters(new Random(7));
        channels.ResetParameters(new Random(7));
        using var x = KernelCheck.Upload(TestData.Uniform(rng, 2 * 2 * 11));
        var pass = new Pass(2, Training: false, Step: 0);
        CollectionAssert.AreEqual(Read(channels.Forward(x.View, pass)), Read(rows.Forward(x.View, pass)));
        using var image = new Concat([("a", WindowPool.GlobalAvgPool())], stackAsImageRows: true);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => image.Build(TestDevice.Cpu, [2, 3, 4], 1, false)).Message, "(C,L)");
    }

    /// <summary>Central differences through the three branches: each gets its channels of the gradient, and the input
    /// gradient is the sum of theirs. All branches are linear, so Conv1dTests' bound holds.</summary>
    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void ConcatBackwardMatchesFiniteDifferences(KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(53);
        using var concat = NewConcat(stackAsImageRows: false);
        concat.Build(TestDevice.For(kernels, width), [2, 11], maxBatch: 3, needsInputGradient: true);
        concat.ResetParameters(rng);
        LayerGradientCheck.Check(concat, TestData.Uniform(rng, 2 * 2 * 11), batch: 2, training: true, rng, step: 0.5,
            absTolerance: 4e-5, relTolerance: 0, maxChecksPerTensor: 12);
    }

    [TestMethod]
    public void ConcatRejectsBranchesOfDifferentLengths()
    {
        using var concat = new Concat([("same", Conv1d.SamePadding(2, 3)), ("valid", new Conv1d(2, 3))]);
        var error = Assert.ThrowsExactly<ArgumentException>(() => concat.Build(TestDevice.Cpu, [1, 10], 1, false));
        StringAssert.Contains(error.Message, "'valid'");
    }

    /// <summary>ReLU(conv(x) + x) with the identity shortcut and ReLU(conv(x) + conv1x1(x)) with a projection, against
    /// the float64 convolution reference: each sum adds one rounding to the convolutions' γ_L bound.</summary>
    [TestMethod]
    [DataRow(false, KernelChoice.Plain, null)]
    [DataRow(true, KernelChoice.Plain, null)]
    [DataRow(false, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(false, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(false, KernelChoice.Host, VectorWidth.Bits512)]
    [DataRow(true, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(true, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(true, KernelChoice.Host, VectorWidth.Bits512)]
    public void ResidualAddsBodyAndShortcut(bool projection, KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(54);
        var channels = projection ? 3 : 2;
        using var block = new Residual([("conv", Conv1d.SamePadding(channels, 3))],
            projection ? ("downsample", new Conv1d(3, 1, bias: false)) : null);
        CollectionAssert.AreEqual(new[] { channels, 13 }, block.Build(TestDevice.For(kernels, width), [2, 13], maxBatch: 3, needsInputGradient: false));
        CollectionAssert.AreEqual(projection ? new[] { "conv.weight", "conv.bias", "downsample.weight" } : new[] { "conv.weight", "conv.bias" },
            block.StateDict().Select(e => e.Name).ToArray());
        block.ResetParameters(rng);
        var input = TestData.Uniform(rng, 2 * 2 * 13);
        using var x = KernelCheck.Upload(input);
        var y = Read(block.Forward(x.View, new Pass(2, Training: true, Step: 0)));

        var conv = (Conv1d)block.Children.First().Layer;
        var bodyShape = new Conv1dShape(2, 2, 13, channels, 3, padLeft: 1, padRight: 1);
        var (w, b) = (conv.Weight.Value.ToArray(), conv.Bias!.Value.ToArray());
        var body = Conv1dReference.Forward(bodyShape, input, w, b);
        var bodyTerms = Conv1dReference.Forward(bodyShape, Abs(input), Abs(w), Abs(b));
        double[] shortcut, shortcutTerms;
        if (projection)
        {
            var shortcutShape = new Conv1dShape(2, 2, 13, 3, 1);
            var projectionWeight = ((Conv1d)block.Children.Last().Layer).Weight.Value.ToArray();
            shortcut = Conv1dReference.Forward(shortcutShape, input, projectionWeight, null);
            shortcutTerms = Conv1dReference.Forward(shortcutShape, Abs(input), Abs(projectionWeight), null);
        }
        else (shortcut, shortcutTerms) = (input.Select(v => (double)v).ToArray(), Abs(input).Select(v => (double)v).ToArray());
        KernelCheck.AssertClose($"Residual forward (projection {projection}, {kernels})", BranchReference.Residual(body, shortcut, reluAfter: true), y,
            i => 8 * U * bodyTerms[i] + 2 * U * shortcutTerms[i]);
    }

    /// <summary>
    /// A ResNet basic block on (C,L) without its ReLUs: conv1, bn1, conv2, bn2 and the projection "downsample" (conv,
    /// BN), PyTorch's names, central differences through all of it. The ReLUs are left out because normalised values
    /// often lie near 0, where a finite difference straddles ReLU's kink; the ReLU after the sum is checked on an
    /// identity block whose sums are kept away from 0 (|conv| ≤ 0.35 from weights below 0.05, inputs of magnitude
    /// 0.5 to 1), so a step of 0.05 crosses no kink and the linear block's differences are exact but for rounding.
    /// </summary>
    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void ResidualBackwardMatchesFiniteDifferences(KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(55);
        using (var basic = new Residual(
                   [("conv1", Conv1d.SamePadding(3, 3, bias: false)), ("bn1", new BatchNorm1d()),
                    ("conv2", Conv1d.SamePadding(3, 3, bias: false)), ("bn2", new BatchNorm1d())],
                   ("downsample", new Sequential([("0", new Conv1d(3, 1, bias: false)), ("1", new BatchNorm1d())])),
                   reluAfter: false))
        {
            basic.Build(TestDevice.For(kernels, width), [2, 9], maxBatch: 4, needsInputGradient: true);
            CollectionAssert.AreEqual(new[]
                {
                    "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                    "conv2.weight", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked",
                    "downsample.0.weight", "downsample.1.weight", "downsample.1.bias", "downsample.1.running_mean",
                    "downsample.1.running_var", "downsample.1.num_batches_tracked",
                },
                basic.StateDict().Select(e => e.Name).ToArray());
            basic.ResetParameters(rng);
            // Two normalisations over M = 27 values per channel curve the loss strongly (third derivatives of order 100)
            // and round their outputs to a few 1e-6 each: at a step of 3e-3 truncation and noise are both ~1e-3, far
            // below a missing path or a misplaced channel (gradients here are of order 0.1 to 1).
            LayerGradientCheck.Check(basic, TestData.Uniform(rng, 3 * 2 * 9, -2, 2), batch: 3, training: true, rng, step: 3e-3,
                absTolerance: 2e-3, relTolerance: 0, maxChecksPerTensor: 6);
        }

        using var identity = new Residual([("conv", Conv1d.SamePadding(2, 3))]);
        identity.Build(TestDevice.For(kernels, width), [2, 9], maxBatch: 3, needsInputGradient: true);
        var conv = (Conv1d)identity.Children.Single().Layer;
        conv.Weight.Value.CopyFrom(TestData.Uniform(rng, 2 * 2 * 3, -0.05f, 0.05f));
        conv.Bias!.Value.CopyFrom(TestData.Uniform(rng, 2, -0.05f, 0.05f));
        var awayFromZero = TestData.Uniform(rng, 2 * 2 * 9, 0.5f, 1).Select(v => rng.Next(2) == 0 ? v : -v).ToArray();
        LayerGradientCheck.Check(identity, awayFromZero, batch: 2, training: true, rng, step: 0.05, absTolerance: 4e-5, relTolerance: 0,
            maxChecksPerTensor: 12);
    }

    [TestMethod]
    public void ResidualRejectsAShortcutOfAnotherShape()
    {
        using var block = new Residual([("conv", Conv1d.SamePadding(4, 3))]);
        var error = Assert.ThrowsExactly<ArgumentException>(() => block.Build(TestDevice.Cpu, [2, 10], 1, false));
        StringAssert.Contains(error.Message, "identity shortcut");
    }

    /// <summary>WaveMsNet's branch ends in squeeze(X, dim=2): a (C,1,L) convolution output becomes a (C,L) signal for
    /// MaxPool1d; Unsqueeze is the inverse. Both hand on the same values.</summary>
    [TestMethod]
    public void SqueezeAndUnsqueezeChangeOnlyTheShape()
    {
        using var squeeze = Reshape.Squeeze(1);
        CollectionAssert.AreEqual(new[] { 32, 441 }, squeeze.Build(TestDevice.Cpu, [32, 1, 441], maxBatch: 2, needsInputGradient: true));
        using var unsqueeze = Reshape.Unsqueeze(0);
        CollectionAssert.AreEqual(new[] { 1, 96, 441 }, unsqueeze.Build(TestDevice.Cpu, [96, 441], maxBatch: 2, needsInputGradient: true));
        var values = TestData.Uniform(new Random(56), 2 * 32 * 441);
        using var x = KernelCheck.Upload(values);
        var pass = new Pass(2, Training: true, Step: 0);
        CollectionAssert.AreEqual(values, Read(squeeze.Forward(x.View, pass)));
        CollectionAssert.AreEqual(values, Read(squeeze.Backward(x.View, pass)));
        using var notOne = Reshape.Squeeze(0);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => notOne.Build(TestDevice.Cpu, [3, 4], 1, false)).Message, "size 1");
    }

    private static Concat NewConcat(bool stackAsImageRows) => new(
    [
        ("narrow", new Conv1d(3, 3, padding: 1)),
        ("wide", new Conv1d(4, 5, padding: 2)),
        ("average", WindowPool.AvgPool1d(3, 1, padding: 1)),
    ], stackAsImageRows);

    private static float[] Read(ArrayView<float> view)
    {
        var values = new float[view.Length];
        view.CopyToCPU(values);
        return values;
    }

    private static float[] Abs(float[] values) => values.Select(Math.Abs).ToArray();
}
