using EnvNet.Kernels;
using ILGPU.Runtime;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Training.Export;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EnvNet.Tests;

/// <summary>
/// The ONNX mappings of the layer kinds the EnvNet models do not use (1-D convolutions and BatchNorm, pools with
/// stride and padding, average and global pools, Concat of branches, residual blocks), each network built, given random
/// weights and BatchNorm statistics, and run by ONNX Runtime against its own eval forward.
/// </summary>
[TestClass]
public sealed class OnnxLayerKindsTests
{
    private const int Batch = 2;
    private const int Classes = 3;

    /// <summary>Every layer kind the mappings know beyond EnvNet's, in one network over a (1, 64) waveform.</summary>
    private static Sequential MixedNetwork() => new(
    [
        ("", new Concat(
        [
            ("branch1", new Conv1d(4, 3, padding: 1)),
            ("branch2", new Sequential([("conv", new Conv1d(4, 5, padding: 2, bias: false)), ("bn", new BatchNorm1d()), ("pool", WindowPool.MaxPool1d(3, 1, padding: 1))])),
        ], stackAsImageRows: true)), // (1, 8, 64)
        ("conv0", Conv2d.SamePadding(4, 3, 3, bias: true)), // (4, 8, 64)
        ("block1", new Residual(
        [
            ("conv1", Conv2d.SamePadding(4, 3, 3)), ("bn1", new BatchNorm2d()), ("relu", new ReLU()),
            ("conv2", Conv2d.SamePadding(4, 3, 3)), ("bn2", new BatchNorm2d()),
        ])),
        ("block2", new Residual(
            [("conv1", new Conv2d(6, 3, 3, 2, 2, 1, 1)), ("bn1", new BatchNorm2d())],
            ("downsample", new Conv2d(6, 1, 1, 2, 2)), reluAfter: false)), // (6, 4, 32)
        ("avgpool", WindowPool.AvgPool2d(3, 3, 2, 2, 1, 1)), // (6, 2, 16)
        ("features", new Concat([("a", new Conv2d(2, 1, 1, bias: true)), ("b", WindowPool.MaxPool2d(3, 3, 1, 1, 1, 1))])), // (8, 2, 16)
        ("gap", WindowPool.GlobalAvgPool()), // (8, 1, 1)
        ("flatten", new Flatten()),
        ("fc", new Linear(Classes)),
    ]);

    /// <summary>Pools in ceil mode over (2, 8): the max pool's last window reaches past its right padding (5 windows),
    /// and the average pool's would start in the right padding, where PyTorch drops it (4 → 3); a mapping with other
    /// output sizes fails at the Linear.</summary>
    private static Sequential CeilModeNetwork() => new(
    [
        ("conv", new Conv1d(2, 1)),
        ("maxpool", WindowPool.MaxPool1d(3, 2, padding: 1, ceilMode: true)),
        ("avgpool", WindowPool.AvgPool1d(2, 2, padding: 1, ceilMode: true)),
        ("flatten", new Flatten()),
        ("fc", new Linear(Classes)),
    ]);

    public static IEnumerable<object[]> Networks =>
    [
        ["AbdoliNet", (Func<Sequential>)(() => new AbdoliNetConfig(Classes).CreateNetwork(seed: 1)), new AbdoliNetConfig(Classes).InputShape],
        ["mixed", (Func<Sequential>)MixedNetwork, new[] { 1, 64 }],
        ["ceil mode", (Func<Sequential>)CeilModeNetwork, new[] { 1, 8 }],
    ];

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void ExportGivesTheNetworksOwnEvalLogits(string name, Func<Sequential> create, int[] inputShape)
    {
        var device = TestDevice.Cpu;
        using var network = create();
        network.Build(device, inputShape, Batch, needsInputGradient: false);
        var rng = new Random(5);
        network.ResetParameters(rng);
        foreach (var entry in network.StateDict().OfType<TensorState>())
        {
            var (low, high) = entry.Name.Split('.')[^1] switch
            {
                "running_mean" => (-0.2f, 0.2f),
                "running_var" => (0.5f, 1.5f),
                _ => (0f, 0f),
            };
            if (high > low) entry.Tensor.CopyFrom(TestData.Uniform(rng, (int)entry.Tensor.Length, low, high));
        }

        var inputLength = (int)ShapeUtil.Elements(inputShape);
        var waveforms = TestData.Uniform(rng, Batch * inputLength);
        using var input = new DeviceTensor(device.Accelerator, Batch * inputLength);
        input.CopyFrom(waveforms);
        var expected = new float[Batch * Classes];
        network.Forward(input.View, new Pass(Batch, Training: false, Step: 0)).SubView(0, expected.Length).CopyToCPU(expected);

        var onnx = OnnxExporter.Build(network, name, name, new Dictionary<string, string>(), OnnxExporter.DefaultOpset, OnnxBatch.Dynamic);
        using var session = new InferenceSession(onnx.ToByteArray());
        var actual = OnnxExportTests.RunOnnx(session, waveforms, Batch, inputLength);

        var maxDifference = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        var largest = expected.Max(Math.Abs);
        Assert.IsGreaterThan(1e-3, largest, "logits this small would make the comparison empty");
        Assert.IsLessThanOrEqualTo(1e-4, maxDifference, $"largest |logit| {largest}");
        Assert.IsLessThanOrEqualTo(1e-4, maxDifference / largest);
    }

    [TestMethod]
    public void ExportOfACeilModeAveragePoolWithAWindowPastItsPaddingIsRefusedNamingIt()
    {
        using var network = new Sequential([("conv", new Conv1d(2, 1)), ("pool", WindowPool.AvgPool1d(3, 2, padding: 1, ceilMode: true)),
            ("flatten", new Flatten()), ("fc", new Linear(Classes))]);
        network.Build(TestDevice.Cpu, [1, 8], Batch, needsInputGradient: false);
        var error = Assert.ThrowsExactly<NotSupportedException>(() =>
            OnnxExporter.Build(network, "pool", "", new Dictionary<string, string>(), OnnxExporter.DefaultOpset, OnnxBatch.Dynamic));
        StringAssert.Contains(error.Message, "average pool 'pool' in ceil mode");
    }
}
