using EnvNet.Network;

namespace EnvNet.Tests;

/// <summary>wavemsnet against esc-learner's PyTorch WaveMsNet (wavemsnet/model.py, configs.py): the state_dict of
/// <c>WaveMsNet(n_classes).state_dict()</c> written out from its module tree, the three branches as the probe's front
/// ends, and the recipe.</summary>
[TestClass]
public sealed class WaveMsNetTests
{
    private const int Classes = 50;

    /// <summary>wavemsnet's Conv2DBatchNorm at PREFIX: Sequential(Conv2d with bias, BatchNorm2d, ReLU) as "module".</summary>
    private static string[] Block(string prefix, int inChannels, int outChannels, int kernelH, int kernelW) =>
    [
        $"{prefix}.module.0.weight [{outChannels},{inChannels},{kernelH},{kernelW}]",
        $"{prefix}.module.0.bias [{outChannels}]",
        $"{prefix}.module.1.weight [{outChannels}]",
        $"{prefix}.module.1.bias [{outChannels}]",
        $"{prefix}.module.1.running_mean [{outChannels}]",
        $"{prefix}.module.1.running_var [{outChannels}]",
        $"{prefix}.module.1.num_batches_tracked [] int64",
    ];

    [TestMethod]
    public void StateDictIsEscLearnersNamesShapesAndOrder()
    {
        string[] expected =
        [
            .. Block("branch1.conv1", 1, 32, 1, 11), .. Block("branch1.conv2", 32, 32, 1, 11),
            .. Block("branch2.conv1", 1, 32, 1, 51), .. Block("branch2.conv2", 32, 32, 1, 11),
            .. Block("branch3.conv1", 1, 32, 1, 101), .. Block("branch3.conv2", 32, 32, 1, 11),
            .. Block("block.conv1", 1, 64, 3, 3), .. Block("block.conv2", 64, 128, 3, 3),
            .. Block("block.conv3", 128, 256, 3, 3), .. Block("block.conv4", 256, 256, 3, 3),
            "fc1.module.0.weight [4096,1536]", "fc1.module.0.bias [4096]",
            $"fc2.weight [{Classes},4096]", $"fc2.bias [{Classes}]",
        ];
        var actual = NetworkModel.Inspect(ModelRegistry.Config("wavemsnet", Classes), network => network.StateDict()
            .Select(e => $"{e.Name} [{string.Join(",", e.Shape)}]" + (e is CounterState ? " int64" : "")).ToArray());

        CollectionAssert.AreEqual(expected, actual, string.Join("\n", actual));
    }

    [TestMethod]
    public void EachBranchIsAFrontEndOf32FiltersOver441Frames()
    {
        var config = ModelRegistry.Config("wavemsnet", Classes);

        CollectionAssert.AreEqual(new[] { "branch1", "branch2", "branch3" }, config.FrontEnds.Select(f => f.Name).ToArray());
        foreach (var frontEnd in config.FrontEnds)
            CollectionAssert.AreEqual(new[] { 32, 441 }, NetworkModel.FrontEndShape(config, frontEnd), frontEnd.Name);
        Assert.AreEqual((44100, 66250), (config.SampleRate, config.InputLength));
    }

    [TestMethod]
    public void RecipeIsEscLearners()
    {
        var recipe = ModelRegistry.Definition("wavemsnet").Recipe;

        Assert.AreEqual((OptimizerKind.SgdMomentum, 0.1, 160, 32, 5e-4, 0.9), (recipe.Optimizer, recipe.LearningRate, recipe.Epochs,
            recipe.Batch, recipe.WeightDecay, recipe.Momentum));
        CollectionAssert.AreEqual(new[] { 60.0, 120.0, 140.0 }, recipe.LearningRateSteps.Select(s => s * recipe.Epochs).ToArray());
    }
}
