using EnvNet.Kernels;
using EnvNet.Kernels.Tiled;
using EnvNet.Network;
using EnvNet.Network.Layers;
using ILGPU;
using ILGPU.Runtime;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

/// <summary>
/// The tiled convolution kernels against the float64 definition, on shapes that divide none of the tiles, with the
/// group shapes they use on a GPU (the CPU accelerator simulates warps of 32 and groups of up to 1024 threads).
/// </summary>
[TestClass]
public sealed class FastKernelTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>EnvNet's row convolutions at reduced size (conv2: 40 channels over two shared-memory chunks), v2's
    /// strided first convolutions, a 2-D kernel with padding (conv3's kind), more than 64 output channels (two channel
    /// tiles), a one-column image, a stride whose last input columns no window reads, and one input channel over an image
    /// of more than one single-channel input-gradient tile (four warps, 1024 positions) with a partial last tile; weight
    /// gradients whose output tiles split the input channels (40 → 5 tiles of 8) or the output channels (336: 42 blocks of
    /// eight do not fit in shared memory at once).</summary>
    public static IEnumerable<object[]> Shapes =>
    [
        [new Conv2dShape(1, 40, 1, 50, 40, 1, 8)],
        [new Conv2dShape(3, 1, 1, 301, 11, 1, 8)],
        [new Conv2dShape(2, 1, 1, 201, 6, 1, 16, sw: 2)],
        [new Conv2dShape(2, 3, 1, 95, 9, 1, 7, sw: 3, pw: 2)],
        [new Conv2dShape(2, 2, 9, 23, 5, 4, 5, ph: 1, pw: 2)],
        [new Conv2dShape(2, 1, 12, 30, 13, 8, 13)],
        [new Conv2dShape(1, 3, 2, 40, 70, 1, 3)],
        [new Conv2dShape(2, 4, 3, 1, 9, 2, 1)],
        [new Conv2dShape(2, 5, 1, 64, 16, 1, 16, sw: 2)],
        [new Conv2dShape(2, 1, 20, 60, 3, 5, 9)],
        [new Conv2dShape(2, 40, 4, 6, 70, 3, 2)],
        [new Conv2dShape(1, 1, 1, 10, 336, 1, 2)],
    ];

    /// <summary>
    /// Tolerances as <see cref="Conv2dTests"/>: forward and input gradient sum L ≤ Cin·KH·KW (resp. Cout·KH·KW) products in
    /// plain float, |error| ≤ L·u·Σ|terms|. The weight gradient sums each thread's share of a chunk in plain float (at most
    /// ChunkLength terms per accumulator) and the chunks with compensation: |error| ≤ (ChunkLength + 4)·u·Σ|terms|.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(Shapes))]
    public void TiledConvolutionMatchesFloat64Reference(Conv2dShape shape) =>
        // Few target groups: the weight gradient then splits each sample into several chunks of several lanes.
        CheckAgainstFloat64Reference(shape, targetBlocks: 3);

    /// <summary>conv1's kind (one input channel, few weights) split as on a GPU into many slices: the weight-gradient
    /// reduction then runs 32 rows per group, with a remainder after its loads four at a time (720 slices).</summary>
    [TestMethod]
    public void WeightGradientWithManySlicesMatchesFloat64Reference()
    {
        var shape = new Conv2dShape(3, 1, 1, 1800, 8, 1, 8);
        var plan = CheckAgainstFloat64Reference(shape, targetBlocks: 200);
        var slices = shape.N * plan.WeightGradient.Chunks * plan.WeightGradient.Lanes;
        Assert.AreEqual(TiledConvKernels.MaxReduceRows, TiledConvKernels.ReduceRowsFor(slices), $"{slices} slices");
        Assert.AreNotEqual(0, slices / TiledConvKernels.MaxReduceRows % 4, $"{slices} slices leave no remainder");
    }

    private static TiledConvPlan CheckAgainstFloat64Reference(Conv2dShape shape, int targetBlocks)
    {
        var accelerator = TestDevice.Tiled.Accelerator;
        var ops = TiledConvOps.For(accelerator);
        var plan = ops.Plan(shape, targetBlocks) ?? throw new AssertFailedException($"no tiled plan for {shape}");
        var rng = new Random(11);
        var x = TestData.Uniform(rng, (int)shape.InputLength);
        var w = TestData.Uniform(rng, (int)shape.WeightLength);
        var dy = TestData.Uniform(rng, (int)shape.OutputLength);
        using var xDevice = KernelCheck.UploadTo(TestDevice.Tiled, x);
        using var wDevice = KernelCheck.UploadTo(TestDevice.Tiled, w);
        using var dyDevice = KernelCheck.UploadTo(TestDevice.Tiled, dy);
        using var y = Poisoned((int)shape.OutputLength);
        using var dx = Poisoned((int)shape.InputLength);
        using var dw = Poisoned((int)shape.WeightLength);
        using var rearranged = new DeviceTensor(accelerator, (int)shape.WeightLength);
        using var partial = new DeviceTensor(accelerator, (int)plan.PartialLength);

        ops.Forward(plan, shape.N, xDevice.View, wDevice.View, y.View, default);
        ops.BackwardInput(plan, shape.N, dyDevice.View, wDevice.View, rearranged.View, dx.View);
        ops.BackwardWeight(plan, shape.N, xDevice.View, dyDevice.View, partial.View, dw.View);

        const double u = KernelCheck.Float32Roundoff;
        var (absX, absW, absDy) = (Abs(x), Abs(w), Abs(dy));
        var forwardTerms = Conv2dReference.Forward(shape, absX, absW);
        var inputTerms = Conv2dReference.BackwardInput(shape, absDy, absW);
        var weightTerms = Conv2dReference.BackwardWeight(shape, absX, absDy);
        double forwardL = shape.Cin * shape.KH * shape.KW, inputL = shape.Cout * shape.KH * shape.KW;
        double weightL = plan.WeightGradient.ChunkLength + 4;
        KernelCheck.AssertClose($"Tiled forward {shape}", Conv2dReference.Forward(shape, x, w), y.ToArray(),
            i => forwardL * u * forwardTerms[i]);
        KernelCheck.AssertClose($"Tiled input gradient {shape}", Conv2dReference.BackwardInput(shape, dy, w), dx.ToArray(),
            i => inputL * u * inputTerms[i]);
        KernelCheck.AssertClose($"Tiled weight gradient {shape}", Conv2dReference.BackwardWeight(shape, x, dy), dw.ToArray(),
            i => weightL * u * weightTerms[i]);
        return plan;
    }

    /// <summary>EnvNet's conv3 (one input channel, 50 output channels, 8×13 on 40×150) at batch 64: its input gradient is a
    /// correlation with one output channel and takes the single-channel layout (128 threads, 1024 positions per tile, every
    /// multiply-add used), while the forward keeps one thread group per tile for its statistics epilogue.</summary>
    [TestMethod]
    public void OneInputChannelTakesTheSingleChannelInputGradient()
    {
        var plan = TiledConvOps.For(TestDevice.Tiled.Accelerator).Plan(new Conv2dShape(64, 1, 40, 150, 50, 8, 13))
                   ?? throw new AssertFailedException("no tiled plan for conv3");
        var inputGradient = plan.InputGradient.Single().Shape;
        Assert.AreEqual(1, inputGradient.SingleChannel, inputGradient.ToString());
        Assert.AreEqual(128, inputGradient.Threads, inputGradient.ToString());
        Assert.AreEqual(7, inputGradient.Tiles, inputGradient.ToString()); // 40 rows × pitch 162 = 6480 positions
        Assert.AreEqual(0, plan.Forward.SingleChannel, plan.Forward.ToString());
    }

    /// <summary>Every convolution of EnvNet and EnvNet-v2 at batch 64 gets a tiled plan within CUDA's 48 KB of shared memory
    /// per group (v2's conv4, 8×8 taps over 253 columns, and conv9/conv10, 128 and 256 channels, fell back to the plain
    /// kernels before the weight gradient tiled its output over channel blocks).</summary>
    [TestMethod]
    public void EveryModelConvolutionHasATiledPlan()
    {
        var ops = TiledConvOps.For(TestDevice.Tiled.Accelerator);
        foreach (var (name, perSample) in EnvNet.Training.Bench.KernelSelfCheck.Convolutions)
        {
            var plan = ops.Plan(perSample.WithBatch(64)) ?? throw new AssertFailedException($"{name}: no tiled plan");
            var largest = new[] { plan.Forward.SharedLength, plan.WeightGradient.SharedLength }
                .Concat(plan.InputGradient.Select(p => p.Shape.SharedLength)).Max();
            Assert.IsLessThanOrEqualTo(TiledConvOps.SharedBudgetFloats, largest, $"{name}: {plan.WeightGradient}");
            Assert.IsLessThanOrEqualTo(256, plan.WeightGradient.Threads, $"{name}: {plan.WeightGradient}");
            TestContext.WriteLine($"{name}: weight gradient {plan.WeightGradient}");
        }
    }

    /// <summary>
    /// The fused Conv→BN→ReLU layer against the same three layers run one after another (same parameters): two training
    /// steps (the running statistics move twice), then backward and an eval forward. Both compute the same float32
    /// function in different summation orders; every value is within L·u·Σ|terms| of exact with L ≤ 10³ terms and outputs
    /// of order 1 after normalisation, so 1e-4 of the largest magnitude bounds the difference with room to spare, while a
    /// wrong mask, statistic or term moves values by order 1.
    /// </summary>
    [TestMethod]
    public void FusedConvBlockMatchesLayerByLayer()
    {
        using var plainKernels = TestDevice.Tiled.WithKernels(KernelChoice.Plain);
        using var fused = new ConvBatchNormReLU(6, 1, 8);
        using var plain = new Sequential([("0", new Conv2d(6, 1, 8)), ("1", new BatchNorm2d()), ("2", new ReLU())]);
        int[] inputShape = [5, 1, 90];
        fused.Build(TestDevice.Tiled, inputShape, maxBatch: 4, needsInputGradient: true);
        plain.Build(plainKernels, inputShape, maxBatch: 4, needsInputGradient: true);
        Assert.IsTrue(fused.IsFused, "a row convolution qualifies for the tiled kernels");
        CollectionAssert.AreEqual(plain.StateDict().Select(e => e.Name).ToList(), fused.StateDict().Select(e => e.Name).ToList(),
            "state-dict names and order are torch.nn.Sequential(Conv2d, BatchNorm2d, ReLU)'s");
        fused.ResetParameters(new Random(5));
        plain.ResetParameters(new Random(5));
        var rng = new Random(6);
        var gamma = TestData.Uniform(rng, 6, 0.5f, 1.5f);
        var beta = TestData.Uniform(rng, 6, -0.5f, 0.5f);
        foreach (var layer in new Layer[] { fused, plain })
        {
            var norm = layer.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
            norm["1.weight"].Value.CopyFrom(gamma);
            norm["1.bias"].Value.CopyFrom(beta);
        }

        const int batch = 3;
        var input = TestData.Uniform(rng, batch * 5 * 90);
        using var x = KernelCheck.UploadTo(TestDevice.Tiled, input);
        var outputLength = batch * 6 * 83;
        using var dy = KernelCheck.UploadTo(TestDevice.Tiled, TestData.Uniform(rng, outputLength));
        float[] fusedOut = [], plainOut = [], fusedDx = [], plainDx = [];
        for (var step = 0; step < 2; step++)
        {
            var pass = new Pass(batch, Training: true, Step: (ulong)step);
            fusedOut = Read(fused.Forward(x.View, pass), outputLength);
            plainOut = Read(plain.Forward(x.View, pass), outputLength);
            fusedDx = Read(fused.Backward(dy.View, pass), input.Length);
            plainDx = Read(plain.Backward(dy.View, pass), input.Length);
        }
        AssertNear("training output", plainOut, fusedOut);
        AssertNear("input gradient", plainDx, fusedDx);
        var fusedState = fused.StateDict().OfType<TensorState>().ToDictionary(e => e.Name, e => e.Tensor.ToArray());
        foreach (var entry in plain.StateDict().OfType<TensorState>())
            AssertNear(entry.Name, entry.Tensor.ToArray(), fusedState[entry.Name]);
        var fusedGrads = fused.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad.ToArray());
        foreach (var (name, parameter) in plain.NamedParameters())
            AssertNear(name + " gradient", parameter.Grad.ToArray(), fusedGrads[name]);
        Assert.AreEqual(2L, fused.StateDict().OfType<CounterState>().Single().Get(), "num_batches_tracked counts training forwards");

        var eval = new Pass(batch, Training: false, Step: 2);
        AssertNear("eval output", Read(plain.Forward(x.View, eval), outputLength), Read(fused.Forward(x.View, eval), outputLength));
    }

    /// <summary>No atomics and fixed reduction orders: the same inputs give the same bits, run after run.</summary>
    [TestMethod]
    public void FusedConvBlockIsDeterministic()
    {
        using var layer = new ConvBatchNormReLU(9, 1, 8);
        layer.Build(TestDevice.Tiled, [4, 1, 150], maxBatch: 2, needsInputGradient: true);
        layer.ResetParameters(new Random(8));
        var rng = new Random(9);
        using var x = KernelCheck.UploadTo(TestDevice.Tiled, TestData.Uniform(rng, 2 * 4 * 150));
        using var dy = KernelCheck.UploadTo(TestDevice.Tiled, TestData.Uniform(rng, 2 * 9 * 143));
        var pass = new Pass(2, Training: true, Step: 0);
        (float[] Output, float[] Dx, float[] Dw) Run()
        {
            var output = Read(layer.Forward(x.View, pass), 2 * 9 * 143);
            var dx = Read(layer.Backward(dy.View, pass), 2 * 4 * 150);
            return (output, dx, layer.Conv.Weight.Grad.ToArray());
        }
        var first = Run();
        var second = Run();
        CollectionAssert.AreEqual(first.Output, second.Output);
        CollectionAssert.AreEqual(first.Dx, second.Dx);
        CollectionAssert.AreEqual(first.Dw, second.Dw);
    }

    private static float[] Read(ArrayView<float> view, int length)
    {
        var values = new float[length];
        view.SubView(0, length).CopyToCPU(values);
        return values;
    }

    private static void AssertNear(string what, float[] expected, float[] actual)
    {
        var scale = expected.Max(Math.Abs);
        KernelCheck.AssertClose(what, expected.Select(v => (double)v).ToArray(), actual, _ => 1e-4 * Math.Max(scale, 1e-6));
    }

    private static DeviceTensor Poisoned(int length) => KernelCheck.UploadTo(TestDevice.Tiled, Enumerable.Repeat(float.NaN, length).ToArray());

    private static float[] Abs(float[] values) => values.Select(Math.Abs).ToArray();
}
