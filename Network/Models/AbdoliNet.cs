using EnvNet.Network.Layers;

namespace EnvNet.Network;

/// <summary>
/// AbdoliNet (Abdoli, Cardinal &amp; Koerich, "End-to-end environmental sound classification using a 1D convolutional
/// neural network", Expert Systems with Applications, 2019) as esc-learner's AbdoliNet (github.com/arrrrrmin/esc-learner),
/// with its state_dict names: four 1-D convolutions over a 1 s segment at 16 kHz, each Conv1d (with bias), ReLU, then
/// BatchNorm1d (the paper's order: ReLU before the normalisation), max pools of 8 after the first two, and three fully
/// connected layers (128, 64, classes) with dropout 0.5 after the hidden ones.
/// <para>Recipe (esc-learner's): torch.optim.Adadelta (<see cref="AdadeltaOptimizer"/>) with lr 0.01 held constant,
/// ρ 0.9 and eps 1e-6 (PyTorch's defaults), weight decay 5e-4, 150 epochs, batch 64.</para>
/// <para>Where this product differs from esc-learner:</para>
/// <list type="bullet">
/// <item>Loss: esc-learner's MSLE loss on the per-clip average of per-segment softmax outputs is not reproduced; the
/// model trains with this product's softmax-KL loss on single 1 s crops, and validation averages 10 test crops per clip
/// (the product's counterpart of esc-learner's per-clip average of segment outputs).</item>
/// </list>
/// </summary>
public sealed record AbdoliNetConfig(int Classes) : ModelConfig(AbdoliNetModels.Name, 16000, 16000, Classes)
{
    /// <summary>One 1 s segment as one channel: 16000 → conv1 (16, 7969) → pool (16, 996) → conv2 (32, 483) → pool
    /// (32, 60) → conv3 (64, 23) → conv4 (128, 8), flattened to 1024 features.</summary>
    public override int[] InputShape => [1, InputLength];

    /// <summary>The first convolution and its pooling: 16 filters over 996 frames.</summary>
    public override IReadOnlyList<FilterBankFrontEnd> FrontEnds => [new("conv1", ["feature_conv.conv1", "feature_conv.pool1"])];

    /// <summary>esc-learner's module tree: "feature_conv" (conv1, pool1, conv2, pool2, conv3, conv4) and "classifier"
    /// (flatten, fc5, fc6, fc7); a convolution's tensors are "convK.module.0.weight" [out, in, kernel] and
    /// ".bias", its normalisation "convK.module.2.*".</summary>
    public override Sequential CreateNetwork(int seed) => new(
    [
        ("feature_conv", new Sequential(
        [
            ("conv1", Convolution(16, 64, 2)),
            ("pool1", WindowPool.MaxPool1d(8, 8)),
            ("conv2", Convolution(32, 32, 2)),
            ("pool2", WindowPool.MaxPool1d(8, 8)),
            ("conv3", Convolution(64, 16, 2)),
            ("conv4", Convolution(128, 8, 2)),
        ])),
        ("classifier", new Sequential(
        [
            ("flatten", new Flatten()),
            ("fc5", new LinearBlock(128, 0.5f, LayerSeeds.Derive(seed, 0))),
            ("fc6", new LinearBlock(64, 0.5f, LayerSeeds.Derive(seed, 1))),
            ("fc7", new Linear(Classes)),
        ])),
    ]);

    /// <summary>esc-learner's AbdoliNetConvolution: Sequential(Conv1d, ReLU, BatchNorm1d) held as "module".</summary>
    private static Sequential Convolution(int outChannels, int kernel, int stride) => new(
    [
        ("module", new Sequential(
        [
            ("0", new Conv1d(outChannels, kernel, stride)),
            ("1", new ReLU()),
            ("2", new BatchNorm1d()),
        ])),
    ]);
}

/// <summary>The AbdoliNet model of the registry.</summary>
public static class AbdoliNetModels
{
    public const string Name = "abdolinet";

    /// <summary>esc-learner's: Adadelta lr 0.01 constant (ρ 0.9), wd 5e-4, 150 epochs, batch 64; 10 test crops.</summary>
    public static readonly TrainingRecipe Recipe = new(OptimizerKind.Adadelta, 150, 0.01, [], WarmupEpochs: 0, Batch: 64, Momentum: 0.9,
        WeightDecay: 5e-4, TestCrops: 10, DoubleEpochsWithBetweenClass: false);

    public static readonly ModelDefinition AbdoliNet = new(Name,
        "Abdoli et al., ESWA 2019, as esc-learner (softmax-KL, not its MSLE loss)",
        classes => new AbdoliNetConfig(classes), Recipe);
}
