using EnvNet.Kernels;
using EnvNet.Network;

namespace EnvNet.Tests;

[TestClass]
public sealed class EnvNetShapeTests
{
    private static (string, int[])[] Layers(params (string Name, int[] Shape)[] layers) => layers;

    private static void AssertLayers((string Name, int[] Shape)[] expected, IReadOnlyList<(string Name, int[] OutputShape)> actual)
    {
        Assert.AreEqual(
            string.Join("\n", expected.Select(l => $"{l.Name} {ShapeUtil.Format(l.Shape)}")),
            string.Join("\n", actual.Select(l => $"{l.Name} {ShapeUtil.Format(l.OutputShape)}")));
    }

    [TestMethod]
    public void EnvNetLayerShapesAreThePapers()
    {
        var config = EnvNetConfig.ByName("envnet", 50);

        AssertLayers(Layers(
            ("feature_conv.conv1", [1, 40, 1, 24007]),
            ("feature_conv.conv2", [1, 40, 1, 24000]),
            ("feature_conv.pool2", [1, 40, 1, 150]),
            ("feature_conv.transpose", [1, 1, 40, 150]),
            ("classifier.conv3", [1, 50, 33, 138]),
            ("classifier.pool3", [1, 50, 11, 46]),
            ("classifier.conv4", [1, 50, 11, 42]),
            ("classifier.pool4", [1, 50, 11, 14]),
            ("classifier.flatten", [1, 7700]),
            ("classifier.fc5", [1, 4096]),
            ("classifier.fc6", [1, 4096]),
            ("classifier.fc7", [1, 50])), NetworkModel.DescribeLayers(config));
        Assert.AreEqual((16000, 24014, 40, 150), (config.SampleRate, config.InputLength, config.FeatureFilters, config.FeatureFrames));
    }

    [TestMethod]
    public void EnvNetV2LayerShapesAreThePapers()
    {
        var config = EnvNetConfig.ByName("envnet-v2", 50);

        AssertLayers(Layers(
            ("feature_conv.conv1", [1, 32, 1, 33294]),
            ("feature_conv.conv2", [1, 64, 1, 16640]),
            ("feature_conv.pool2", [1, 64, 1, 260]),
            ("feature_conv.transpose", [1, 1, 64, 260]),
            ("classifier.conv3", [1, 32, 57, 253]),
            ("classifier.conv4", [1, 32, 50, 246]),
            ("classifier.pool4", [1, 32, 10, 82]),
            ("classifier.conv5", [1, 64, 10, 79]),
            ("classifier.conv6", [1, 64, 10, 76]),
            ("classifier.pool6", [1, 64, 10, 38]),
            ("classifier.conv7", [1, 128, 10, 37]),
            ("classifier.conv8", [1, 128, 10, 36]),
            ("classifier.pool8", [1, 128, 10, 18]),
            ("classifier.conv9", [1, 256, 10, 17]),
            ("classifier.conv10", [1, 256, 10, 16]),
            ("classifier.pool10", [1, 256, 10, 8]),
            ("classifier.flatten", [1, 256 * 10 * 8]),
            ("classifier.fc11", [1, 4096]),
            ("classifier.fc12", [1, 4096]),
            ("classifier.fc13", [1, 50])), NetworkModel.DescribeLayers(config));
        Assert.AreEqual((44100, 66650, 64, 260), (config.SampleRate, config.InputLength, config.FeatureFilters, config.FeatureFrames));
    }

    [TestMethod]
    [DataRow("envnet-tiny")]
    [DataRow("envnet-v2-tiny")]
    public void TinyModelsBuiltLayersHaveTheComputedShapesAndParameterCount(string name)
    {
        var config = EnvNetConfig.ByName(name, 7);
        using var model = NetworkModel.Create(TestDevice.Cpu, config, maxBatch: 2, seed: 1);

        AssertLayers(NetworkModel.DescribeLayers(config).ToArray(), model.DescribeLayers());
        Assert.AreEqual(NetworkModel.CountParameters(config), model.ParameterCount);
        var transpose = model.DescribeLayers().Single(l => l.Name == "feature_conv.transpose").OutputShape;
        CollectionAssert.AreEqual(new[] { 1, 1, config.FeatureFilters, config.FeatureFrames }, transpose);
    }

    [TestMethod]
    public void EnvNetStateDictHasPyTorchNamesShapesAndOrder()
    {
        const int classes = 50;
        using var model = NetworkModel.Create(TestDevice.Cpu, EnvNetConfig.ByName("envnet", classes), maxBatch: 1, seed: 0);

        string[] BatchNorm(string prefix, int channels) =>
        [
            $"{prefix}.weight [{channels}]", $"{prefix}.bias [{channels}]", $"{prefix}.running_mean [{channels}]",
            $"{prefix}.running_var [{channels}]", $"{prefix}.num_batches_tracked [] int64",
        ];
        string[] expected =
        [
            "feature_conv.conv1.module.0.weight [40,1,1,8]", .. BatchNorm("feature_conv.conv1.module.1", 40),
            "feature_conv.conv2.module.0.weight [40,40,1,8]", .. BatchNorm("feature_conv.conv2.module.1", 40),
            "classifier.conv3.module.0.weight [50,1,8,13]", .. BatchNorm("classifier.conv3.module.1", 50),
            "classifier.conv4.module.0.weight [50,50,1,5]", .. BatchNorm("classifier.conv4.module.1", 50),
            "classifier.fc5.module.0.weight [4096,7700]", "classifier.fc5.module.0.bias [4096]",
            "classifier.fc6.module.0.weight [4096,4096]", "classifier.fc6.module.0.bias [4096]",
            "classifier.fc7.weight [50,4096]", "classifier.fc7.bias [50]",
        ];
        var actual = model.StateDict.Select(e =>
            $"{e.Name} [{string.Join(",", e.Shape)}]" + (e is CounterState ? " int64" : "")).ToArray();
        CollectionAssert.AreEqual(expected, actual, string.Join("\n", actual));

        // PyTorch's sum(p.numel() for p in EnvNet(50).parameters()): convolutions have no bias, BatchNorm has weight
        // and bias per channel, Linear has weight and bias.
        long ConvBlock(long inChannels, long outChannels, long kernel) => outChannels * inChannels * kernel + 2 * outChannels;
        long Linear(long inFeatures, long outFeatures) => outFeatures * inFeatures + outFeatures;
        var pytorchCount = ConvBlock(1, 40, 1 * 8) + ConvBlock(40, 40, 1 * 8) + ConvBlock(1, 50, 8 * 13) + ConvBlock(50, 50, 1 * 5)
            + Linear(50 * 11 * 14, 4096) + Linear(4096, 4096) + Linear(4096, classes);
        Assert.AreEqual(pytorchCount, model.ParameterCount);
        Assert.AreEqual(pytorchCount, NetworkModel.CountParameters(model.Config));

        var parameterNames = actual.Where(n => !n.Contains("running_") && !n.Contains("num_batches")).ToArray();
        CollectionAssert.AreEqual(
            parameterNames.Select(n => n.Replace(" [", ".momentum_buffer [")).ToArray(),
            model.OptimizerState.Select(e => $"{e.Name} [{string.Join(",", e.Shape)}]").ToArray());
    }

    [TestMethod]
    public void ToStringListsEverySizeOnOneLine()
    {
        Assert.AreEqual(
            "envnet: 16000 Hz, 24014 samples, 50 classes; features conv 40x1x8, conv 40x1x8, pool 1x160; " +
            "classifier conv 50x8x13, pool 3x3; conv 50x1x5, pool 1x3; fc 4096, 4096 (dropout 0.5), 50",
            EnvNetConfig.ByName("envnet", 50).ToString());
        StringAssert.StartsWith(EnvNetConfig.ByName("envnet-v2", 10).ToString(),
            "envnet-v2: 44100 Hz, 66650 samples, 10 classes; features conv 32x1x64/1x2, conv 64x1x16/1x2, pool 1x64; ");
    }

    [TestMethod]
    public void ByNameUnknownModelNamesTheKnownOnes()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => EnvNetConfig.ByName("envnet-v3", 50));
        StringAssert.Contains(error.Message, "envnet-v2-tiny");
    }

    [TestMethod]
    public void DescribeLayersInputTooShortNamesTheLayer()
    {
        var config = EnvNetConfig.ByName("envnet", 50) with { InputLength = 4814 }; // 30 frames: pool4 would get 2 columns

        var error = Assert.ThrowsExactly<ArgumentException>(() => NetworkModel.DescribeLayers(config));
        StringAssert.Contains(error.Message, "classifier.pool4");
    }

    [TestMethod]
    public void EstimateTrainingBytesEnvNetCountsParametersThriceAndGrowsWithTheBatch()
    {
        var config = EnvNetConfig.ByName("envnet", 50);
        var perSample = NetworkModel.EstimateTrainingBytes(config, 2) - NetworkModel.EstimateTrainingBytes(config, 1);

        Assert.AreEqual(3 * 4 * NetworkModel.CountParameters(config), NetworkModel.EstimateTrainingBytes(config, 1) - perSample);
        // At least conv1's and conv2's block outputs (3 tensors each of 40 x 24007 or 40 x 24000 floats) and their gradients.
        Assert.IsTrue(perSample > 4L * 2 * 3 * 40 * 24000 * 2, $"{perSample} bytes per sample");
    }
}
