using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>
/// The WaveMxNet models against esc-learner's PyTorch classes (wavemxnet/model.py): the state_dict names, shapes and
/// order of <c>WaveMxNet(num_classes, m).state_dict()</c> written out by hand from the module tree, and the layer
/// shapes for its 32,079-sample input.
/// </summary>
[TestClass]
public sealed class WaveMxNetTests
{
    private const int Classes = 10;

    /// <summary>Conv1DBatchNorm(in, out, kernel) at module.INDEX: Sequential(Conv1d (bias), BatchNorm1d, ReLU) as "module".</summary>
    private static string[] Block(int index, int inChannels, int outChannels, int kernel) =>
    [
        $"module.{index}.module.0.weight [{outChannels},{inChannels},{kernel}]",
        $"module.{index}.module.0.bias [{outChannels}]",
        $"module.{index}.module.1.weight [{outChannels}]",
        $"module.{index}.module.1.bias [{outChannels}]",
        $"module.{index}.module.1.running_mean [{outChannels}]",
        $"module.{index}.module.1.running_var [{outChannels}]",
        $"module.{index}.module.1.num_batches_tracked [] int64",
    ];

    private static string[] Linear(int index, int inFeatures) =>
        [$"module.{index}.weight [{Classes},{inFeatures}]", $"module.{index}.bias [{Classes}]"];

    /// <summary>Index of each Conv1DBatchNorm in the Sequential and its (in, out) channels; pools take the other indices.</summary>
    private static string[] Blocks(params (int Index, int In, int Out)[] blocks) =>
        blocks.SelectMany((b, i) => Block(b.Index, b.In, b.Out, i == 0 ? 80 : 3)).ToArray();

    private static readonly Dictionary<string, string[]> Expected = new()
    {
        ["m3"] = [.. Blocks((0, 1, 256), (2, 256, 256)), .. Linear(6, 256)],
        ["m5"] = [.. Blocks((0, 1, 128), (2, 128, 128), (4, 128, 256), (6, 256, 512)), .. Linear(10, 512)],
        ["m11"] = [.. Blocks((0, 1, 64), (2, 64, 64), (3, 64, 64), (5, 64, 128), (6, 128, 128), (8, 128, 256), (9, 256, 256),
            (10, 256, 256), (12, 256, 512), (13, 512, 512)), .. Linear(16, 512)],
        ["m18"] = [.. Blocks((0, 1, 64), (2, 64, 64), (3, 64, 64), (4, 64, 64), (5, 64, 64), (7, 64, 128), (8, 128, 128),
            (9, 128, 128), (10, 128, 128), (12, 128, 256), (13, 256, 256), (14, 256, 256), (15, 256, 256), (17, 256, 512),
            (18, 512, 512), (19, 512, 512), (20, 512, 512)), .. Linear(23, 512)],
    };

    [TestMethod]
    [DataRow("m3")]
    [DataRow("m5")]
    [DataRow("m11")]
    [DataRow("m18")]
    public void StateDictIsEscLearnersNamesShapesAndOrder(string name)
    {
        var expected = Expected[name];
        var actual = NetworkModel.Inspect(ModelRegistry.Config(name, Classes), network => network.StateDict()
            .Select(e => $"{e.Name} [{string.Join(",", e.Shape)}]" + (e is CounterState ? " int64" : "")).ToArray());

        CollectionAssert.AreEqual(expected, actual, string.Join("\n", actual));
    }

    /// <summary>m5's training pass (forward, backward) on the CPU backend, whose host kernels now run every layer of it
    /// (Conv1d and its bias, BatchNorm1d, ReLU, max and average pooling, Linear), against the plain kernels with the same
    /// weights, input and output gradient at batch 2: logits, every gradient and the running statistics within 1e-4 of
    /// each tensor's largest value (float32 summation orders, amplified through four normalisations). A convolution's
    /// bias gradient is zero but for rounding, since BatchNorm's input gradient sums to zero over each channel, so it
    /// is held to the scale of the same convolution's weight gradient.</summary>
    [TestMethod]
    public void M5TrainingPassAgreesOnPlainAndHostKernels()
    {
        var config = ModelRegistry.Config("m5", Classes);
        var input = TestData.Uniform(new Random(5), 2 * config.InputLength);
        var gradOutput = TestData.Uniform(new Random(6), 2 * Classes);
        Dictionary<string, float[]> TrainingPass(ComputeDevice device)
        {
            using var network = config.CreateNetwork(seed: 1);
            network.Build(device, config.InputShape, maxBatch: 2, needsInputGradient: false);
            network.ResetParameters(new Random(2));
            using var x = KernelCheck.Upload(input);
            using var dy = KernelCheck.Upload(gradOutput);
            var pass = new Pass(2, Training: true, Step: 0);
            var logits = network.Forward(x.View, pass);
            var result = new Dictionary<string, float[]> { ["logits"] = new float[logits.Length] };
            logits.CopyToCPU(result["logits"]);
            network.Backward(dy.View, pass);
            foreach (var (name, parameter) in network.NamedParameters()) result[$"{name} gradient"] = parameter.Grad.ToArray();
            foreach (var entry in network.StateDict().OfType<TensorState>()) result[entry.Name] = entry.Tensor.ToArray();
            return result;
        }
        var plain = TrainingPass(TestDevice.Cpu);
        var host = TrainingPass(TestDevice.Host);
        CollectionAssert.AreEqual(plain.Keys.ToArray(), host.Keys.ToArray());
        foreach (var (name, expected) in plain)
        {
            var scale = expected.Max(Math.Abs);
            if (name.EndsWith(".bias gradient")) scale = Math.Max(scale, plain[name.Replace(".bias gradient", ".weight gradient")].Max(Math.Abs));
            KernelCheck.AssertClose($"m5 {name}, host vs plain", expected.Select(v => (double)v).ToArray(), host[name], _ => 1e-4 * scale);
        }
    }

    [TestMethod]
    public void M5LayerShapesFollowTheInputOf32079Samples()
    {
        var layers = NetworkModel.DescribeLayers(ModelRegistry.Config("m5", Classes));

        // 32079 samples: (32079 - 80) / 4 + 1 = 8000 frames, pooled by 4 to 2000, 500, 125 and, with ceil_mode, 32.
        string[] expected =
        [
            "module.0 [1,128,8000]", "module.1 [1,128,2000]", "module.2 [1,128,2000]", "module.3 [1,128,500]",
            "module.4 [1,256,500]", "module.5 [1,256,125]", "module.6 [1,512,125]", "module.7 [1,512,32]",
            "module.8 [1,512,1]", "module.9 [1,512]", "module.10 [1,10]",
        ];
        CollectionAssert.AreEqual(expected, layers.Select(l => $"{l.Name} [{string.Join(",", l.OutputShape)}]").ToArray());
    }

    [TestMethod]
    public void ParameterCountsAreThePapersSizes()
    {
        // Dai et al. 2017, Table 1: m3 0.2M, m5 0.5M, m11 1.8M, m18 3.7M parameters, rounded (and without the
        // convolutions' biases and this classifier's 10 classes): within 15 %.
        foreach (var (name, millions) in new[] { ("m3", 0.2), ("m5", 0.5), ("m11", 1.8), ("m18", 3.7) })
        {
            var parameters = NetworkModel.CountParameters(ModelRegistry.Config(name, Classes));
            Assert.AreEqual(millions, parameters / 1e6, 0.15 * millions, $"{name}: {parameters} parameters");
        }
    }

    [TestMethod]
    public void RecipeIsEscLearners()
    {
        var recipe = ModelRegistry.Definition("m11").Recipe;

        Assert.AreEqual((OptimizerKind.Adam, 1e-3, 1e-4, 100, 32), (recipe.Optimizer, recipe.LearningRate, recipe.WeightDecay, recipe.Epochs, recipe.Batch));
        Assert.AreEqual(0, recipe.LearningRateSteps.Count, "esc-learner keeps the rate constant");
        var config = ModelRegistry.Config("m11", Classes);
        Assert.AreEqual((8000, 32079), (config.SampleRate, config.InputLength));
    }

    [TestMethod]
    public void M34ResHasThePapersResidualStagesWithTorchvisionBlockNames()
    {
        var config = ModelRegistry.Config("m34-res", Classes);
        var names = NetworkModel.Inspect(config, network => network.StateDict().Select(e => $"{e.Name} [{string.Join(",", e.Shape)}]").ToList());

        // 3, 4, 6 and 3 blocks of 48, 96, 192 and 384 channels at module.2-4, 6-9, 11-16 and 18-20.
        var blocks = names.Where(n => n.Contains(".conv1.weight")).ToList();
        CollectionAssert.AreEqual(
            new[] { 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20 },
            blocks.Select(n => int.Parse(n.Split('.')[1])).ToArray(), string.Join("\n", blocks));
        CollectionAssert.Contains(names, "module.2.conv1.weight [48,48,3]");
        CollectionAssert.Contains(names, "module.2.bn2.running_var [48]");
        CollectionAssert.Contains(names, "module.6.downsample.0.weight [96,48,1]");
        CollectionAssert.Contains(names, "module.18.conv2.weight [384,384,3]");
        CollectionAssert.Contains(names, "module.23.weight [10,384]");
        Assert.AreEqual(3, names.Count(n => n.Contains("downsample.0.weight")), "a projection where the channels change");
        Assert.AreEqual("module.20 [1,384,31]", NetworkModel.DescribeLayers(config)
            .Where(l => l.Name == "module.20").Select(l => $"{l.Name} [{string.Join(",", l.OutputShape)}]").Single());
    }

    /// <summary>A WaveMxNet of m3's form, small enough to train here: Adam from the model's optimizer kind lowers the
    /// loss on a fixed batch, and its state (moments and step) comes back from a checkpoint.</summary>
    [TestMethod]
    public void SmallWaveMxNetTrainsWithAdamAndItsStateRoundTrips()
    {
        var config = new WaveMxNetConfig("wavemx-test", 3,
            [new ConvStep(8, Kernel: 80, Stride: 4, SamePadding: false), new MaxPoolStep(4), new ConvStep(8), new GlobalAvgPoolStep()],
            InputLength: 80 + 4 * 63);
        using var model = NetworkModel.Create(TestDevice.Host, config, maxBatch: 6, seed: 1, OptimizerKind.Adam);
        var rng = new Random(2);
        var inputs = Enumerable.Range(0, 6 * config.InputLength).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var targets = Enumerable.Range(0, 6).SelectMany(i => Enumerable.Range(0, 3).Select(c => c == i % 3 ? 1f : 0f)).ToArray();

        var first = model.TrainStep(inputs, targets, 6, 1e-2f, 0.9f, 1e-4f).MeanLoss;
        var last = first;
        for (var step = 0; step < 30; step++) last = model.TrainStep(inputs, targets, 6, 1e-2f, 0.9f, 1e-4f).MeanLoss;
        Assert.IsTrue(last < 0.5 * first, $"loss {first} -> {last}");

        CollectionAssert.Contains(model.OptimizerState.Select(e => e.Name).ToList(), "module.0.module.0.weight.exp_avg_sq");
        using var dir = new TempDir();
        var info = new CheckpointInfo("wavemx-test", "esc50", ["a", "b", "c"], 1, 1, 1, 0.5);
        TrainingCheckpoint.Save(dir.Path, model, info, TrainingProgress.Start(1, 1) with { Step = model.Step });
        using var restored = NetworkModel.Create(TestDevice.Host, config, maxBatch: 6, seed: 5, OptimizerKind.Adam);
        TrainingCheckpoint.TryLoad(dir.Path, restored, 1, 1);
        var next = model.TrainStep(inputs, targets, 6, 1e-2f, 0.9f, 1e-4f).MeanLoss;
        Assert.AreEqual(next, restored.TrainStep(inputs, targets, 6, 1e-2f, 0.9f, 1e-4f).MeanLoss, "the restored model takes the same step");
    }
}
