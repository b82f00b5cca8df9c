using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using ILGPU.Runtime;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

/// <summary>
/// The CPU backend (<c>--accelerator cpu</c>) against the plain ILGPU kernels on whole networks: the same weights and
/// batch give the same logits, loss, gradients and running statistics within float tolerance, and the host backend
/// gives the same bits on every run. The ops one by one are checked against the float64 references in the kernel test
/// classes (each runs its reference test on both backends).
/// </summary>
[TestClass]
public sealed class HostBackendTests
{
    private const int Classes = 5;
    private const int Batch = 3;

    /// <summary>
    /// One training forward and backward of each tiny model on both backends. Both sum the same float32 terms in
    /// different orders (and BatchNorm's statistics in different precisions), so values agree to a few units of float
    /// rounding relative to each tensor's largest value, amplified through the layers; 1e-4 of the largest value leaves
    /// margin, while a wrong term, mask or statistic moves whole tensors by order 1.
    /// </summary>
    [TestMethod]
    [DataRow("envnet-tiny", VectorWidth.Bits128)]
    [DataRow("envnet-tiny", VectorWidth.Bits256)]
    [DataRow("envnet-tiny", VectorWidth.Bits512)]
    [DataRow("envnet-v2-tiny", VectorWidth.Bits128)]
    [DataRow("envnet-v2-tiny", VectorWidth.Bits256)]
    [DataRow("envnet-v2-tiny", VectorWidth.Bits512)]
    public void TrainingPassMatchesThePlainKernels(string model, VectorWidth width)
    {
        var config = EnvNetConfig.ByName(model, Classes);
        var plain = Pass(TestDevice.Cpu, config);
        var host = Pass(TestDevice.For(KernelChoice.Host, width), config);
        Assert.AreEqual(plain.Count, host.Count);
        var failures = new List<string>();
        foreach (var (name, expected) in plain)
        {
            var actual = host[name];
            var scale = Math.Max(expected.Max(Math.Abs), 1e-6f);
            var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Console.WriteLine($"[accuracy] {model} {width} {name}: max |host − plain| = {worst:E2} of max |plain| {scale:E2}");
            if (!(worst <= 1e-4 * scale)) failures.Add($"{name}: max |host − plain| {worst:E2} > 1e-4 · {scale:E2}");
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
    }

    /// <summary>The host's fused Conv→BN→ReLU does the three layers' arithmetic in fewer passes: two training steps
    /// (running statistics move twice), backward and an eval forward give the same bits as the three host layers,
    /// at every vector width, for EnvNet's Conv2d(bias=False) → BatchNorm2d and esc-learner's Conv1d (with its bias,
    /// stride 2) → BatchNorm1d.</summary>
    [TestMethod]
    [DataRow(VectorWidth.Bits128, false)]
    [DataRow(VectorWidth.Bits256, false)]
    [DataRow(VectorWidth.Bits512, false)]
    [DataRow(VectorWidth.Bits128, true)]
    [DataRow(VectorWidth.Bits256, true)]
    [DataRow(VectorWidth.Bits512, true)]
    public void FusedConvBlockGivesTheBitsOfTheThreeLayers(VectorWidth width, bool oneDimensional)
    {
        var device = TestDevice.For(KernelChoice.Host, width);
        using var fused = oneDimensional ? ConvBatchNormReLU.OneDimensional(new Conv1d(6, 8, stride: 2)) : new ConvBatchNormReLU(6, 3, 8);
        using var layers = oneDimensional
            ? new Sequential([("0", new Conv1d(6, 8, stride: 2)), ("1", new BatchNorm1d()), ("2", new ReLU())])
            : new Sequential([("0", new Conv2d(6, 3, 8)), ("1", new BatchNorm2d()), ("2", new ReLU())]);
        int[] inputShape = oneDimensional ? [5, 91] : [5, 7, 90];
        fused.Build(device, inputShape, maxBatch: 4, needsInputGradient: true);
        layers.Build(device, inputShape, maxBatch: 4, needsInputGradient: true);
        Assert.IsTrue(fused.IsFused);
        fused.ResetParameters(new Random(5));
        layers.ResetParameters(new Random(5));
        var rng = new Random(6);
        var gamma = TestData.Uniform(rng, 6, 0.5f, 1.5f);
        var beta = TestData.Uniform(rng, 6, -0.5f, 0.5f);
        foreach (var layer in new Layer[] { fused, layers })
        {
            var parameters = layer.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
            parameters["1.weight"].Value.CopyFrom(gamma);
            parameters["1.bias"].Value.CopyFrom(beta);
        }
        Assert.AreEqual(oneDimensional, fused.NamedParameters().Any(p => p.Name == "0.bias"), "the 1-D block's convolution has its bias");
        const int batch = 3;
        using var x = KernelCheck.UploadTo(device, TestData.Uniform(rng, batch * inputShape.Aggregate(1, (n, d) => n * d)));
        var outputLength = batch * (oneDimensional ? 6 * 42 : 6 * 5 * 83);
        using var dy = KernelCheck.UploadTo(device, TestData.Uniform(rng, outputLength));
        for (var step = 0; step < 2; step++)
        {
            var pass = new Pass(batch, Training: true, Step: (ulong)step);
            CollectionAssert.AreEqual(Read(layers.Forward(x.View, pass), outputLength), Read(fused.Forward(x.View, pass), outputLength), "output");
            CollectionAssert.AreEqual(Read(layers.Backward(dy.View, pass), (int)x.Length), Read(fused.Backward(dy.View, pass), (int)x.Length), "input gradient");
        }
        var fusedGradients = fused.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad.ToArray());
        foreach (var (name, parameter) in layers.NamedParameters()) CollectionAssert.AreEqual(parameter.Grad.ToArray(), fusedGradients[name], name);
        var fusedState = fused.StateDict().OfType<TensorState>().ToDictionary(e => e.Name, e => e.Tensor.ToArray());
        foreach (var entry in layers.StateDict().OfType<TensorState>()) CollectionAssert.AreEqual(entry.Tensor.ToArray(), fusedState[entry.Name], entry.Name);
        var eval = new Pass(batch, Training: false, Step: 2);
        CollectionAssert.AreEqual(Read(layers.Forward(x.View, eval), outputLength), Read(fused.Forward(x.View, eval), outputLength), "eval output");
    }

    private static float[] Read(ILGPU.ArrayView<float> view, int length) => view.SubView(0, length).GetAsArray();

    /// <summary>Fixed partitioning and reduction orders: two identical passes give identical bits.</summary>
    [TestMethod]
    [DataRow(VectorWidth.Bits128)]
    [DataRow(VectorWidth.Bits256)]
    [DataRow(VectorWidth.Bits512)]
    public void TrainingPassIsDeterministic(VectorWidth width)
    {
        var config = EnvNetConfig.ByName("envnet-tiny", Classes);
        var first = Pass(TestDevice.For(KernelChoice.Host, width), config);
        var second = Pass(TestDevice.For(KernelChoice.Host, width), config);
        foreach (var (name, values) in first) CollectionAssert.AreEqual(values, second[name], name);
    }

    /// <summary>
    /// The host fully connected layer on sizes past its blocks: the forward's 512-long chunks and 48-row items (in 600,
    /// out 100), the GEMM's 256-deep packed blocks and 4- or 8-row panels (batch 9), at every width. Every output is a
    /// float32 sum of L products (L = in, out or batch) in some summation tree no deeper than L, so
    /// |error| ≤ γ_L·Σ|terms|.
    /// </summary>
    [TestMethod]
    [DataRow(VectorWidth.Bits128)]
    [DataRow(VectorWidth.Bits256)]
    [DataRow(VectorWidth.Bits512)]
    public void LinearMatchesFloat64ReferenceAcrossBlocks(VectorWidth width)
    {
        var device = TestDevice.For(KernelChoice.Host, width);
        const int batch = 9, inFeatures = 600, outFeatures = 100;
        var rng = new Random(9);
        var x = TestData.Uniform(rng, batch * inFeatures);
        var w = TestData.Uniform(rng, outFeatures * inFeatures);
        var b = TestData.Uniform(rng, outFeatures);
        var dy = TestData.Uniform(rng, batch * outFeatures);
        using var op = device.Kernels.Linear(batch, inFeatures, outFeatures, needsInputGradient: true);
        using var xDevice = KernelCheck.UploadTo(device, x);
        using var wDevice = KernelCheck.UploadTo(device, w);
        using var bDevice = KernelCheck.UploadTo(device, b);
        using var dyDevice = KernelCheck.UploadTo(device, dy);
        using var y = new DeviceTensor(device.Accelerator, batch * outFeatures);
        using var dx = new DeviceTensor(device.Accelerator, batch * inFeatures);
        using var dw = new DeviceTensor(device.Accelerator, outFeatures * inFeatures);
        using var db = new DeviceTensor(device.Accelerator, outFeatures);

        op.Forward(batch, xDevice.View, wDevice.View, bDevice.View, y.View);
        op.BackwardParameters(batch, xDevice.View, dyDevice.View, dw.View, db.View);
        op.BackwardInput(batch, dyDevice.View, wDevice.View, dx.View);

        const double u = KernelCheck.Float32Roundoff;
        static float[] Abs(float[] v) => v.Select(Math.Abs).ToArray();
        var forwardTerms = LinearReference.Forward(Abs(x), Abs(w), Abs(b), batch, inFeatures, outFeatures);
        var (inputTerms, weightTerms, biasTerms) = LinearReference.Backward(Abs(x), Abs(w), Abs(dy), batch, inFeatures, outFeatures);
        var (expectedDx, expectedDw, expectedDb) = LinearReference.Backward(x, w, dy, batch, inFeatures, outFeatures);
        KernelCheck.AssertClose("host Linear forward", LinearReference.Forward(x, w, b, batch, inFeatures, outFeatures), y.ToArray(),
            i => (inFeatures + 1) * u * forwardTerms[i]);
        KernelCheck.AssertClose("host Linear input gradient", expectedDx, dx.ToArray(), i => outFeatures * u * inputTerms[i]);
        KernelCheck.AssertClose("host Linear weight gradient", expectedDw, dw.ToArray(), i => batch * u * weightTerms[i]);
        KernelCheck.AssertClose("host Linear bias gradient", expectedDb, db.ToArray(), i => batch * u * biasTerms[i]);
    }

    /// <summary>Builds <paramref name="config"/> on <paramref name="device"/> (seed 3), runs one training forward, the loss
    /// and backward on a fixed random batch; returns logits, loss gradient, every parameter gradient and every state tensor.</summary>
    private static Dictionary<string, float[]> Pass(ComputeDevice device, EnvNetConfig config)
    {
        using var network = NetworkModel.CreateNetwork(config, seed: 3);
        network.Build(device, [1, 1, config.InputLength], Batch, needsInputGradient: false);
        network.ResetParameters(new Random(3));
        using var loss = new SoftmaxKlLoss(device, config.Classes, Batch);
        using var input = new DeviceTensor(device.Accelerator, Batch, 1, 1, config.InputLength);
        using var targets = new DeviceTensor(device.Accelerator, Batch, config.Classes);
        var rng = new Random(5);
        input.CopyFrom(TestData.Uniform(rng, Batch * config.InputLength));
        var labels = new float[Batch * config.Classes];
        for (var r = 0; r < Batch; r++) labels[r * config.Classes + r % config.Classes] = 1;
        targets.CopyFrom(labels);

        var pass = new Pass(Batch, Training: true, Step: 7);
        var logits = network.Forward(input.View, pass);
        var result = new Dictionary<string, float[]> { ["logits"] = logits.SubView(0, Batch * config.Classes).GetAsArray() };
        result["loss"] = [loss.Compute(logits, targets.View, Batch)];
        network.Backward(loss.Gradient, pass);
        foreach (var (name, parameter) in network.NamedParameters()) result[name + ".grad"] = parameter.Grad.ToArray();
        foreach (var entry in network.StateDict().OfType<TensorState>()) result[entry.Name] = entry.Tensor.ToArray();
        return result;
    }
}
