using EnvNet.Network.Layers;

namespace EnvNet.Network;

/// <summary>
/// WaveMsNet (Zhu, Ko, Qu, Yang &amp; Li, "Learning environmental sounds with multi-scale convolutional neural network",
/// IJCNN 2018) as esc-learner's <c>WaveMsNet(n_classes)</c> (github.com/arrrrrmin/esc-learner, <c>wavemsnet/model.py</c>
/// and <c>configs.py</c>): three branches read the waveform at three scales (convolutions of 11, 51 and 101 taps with
/// strides 1, 5 and 10, then 11 taps, each pooled to 441 frames), their 3 x 32 filters are stacked into a 96 x 441
/// image, and four convolution blocks (64, 128, 256, 256 channels of 3x3) with max poolings, a 4096-unit
/// fully connected block and the last Linear classify it. State names are esc-learner's: <c>branch1.conv1.module.0.weight</c>,
/// ..., <c>block.conv4.module.1.running_var</c>, <c>fc1.module.0.weight</c>, <c>fc2.weight</c>. Its convolutions keep
/// PyTorch's default bias although BatchNorm follows each of them, as esc-learner's do.
/// <para>Recipe (esc-learner's configs and run): SGD with momentum 0.9 (not Nesterov), learning rate 0.1 divided by 10
/// after epochs 60, 120 and 140 of 160, batch 32, weight decay 5e-4, 10 test crops.</para>
/// </summary>
public sealed record WaveMsNetConfig(int Classes) : ModelConfig(WaveMsNetModels.Name, 44100, 66250, Classes)
{
    /// <summary>The waveform as a one-channel, one-row image, as esc-learner's unsqueeze before the 2-D convolutions.</summary>
    public override int[] InputShape => [1, 1, InputLength];

    /// <summary>Each branch on its own: its (32, 441) output is 32 filters over 441 frames.</summary>
    public override IReadOnlyList<FilterBankFrontEnd> FrontEnds => Branches.Select(b => new FilterBankFrontEnd(b.Name, [b.Name])).ToArray();

    /// <summary>Name, first convolution's taps and stride, and the pooling to 441 frames of each branch.</summary>
    private static readonly (string Name, int Taps, int Stride, int Pool)[] Branches =
        [("branch1", 11, 1, 150), ("branch2", 51, 5, 30), ("branch3", 101, 10, 15)];

    public override Layer CreateNetwork(int seed) => new Sequential(
    [
        // esc-learner's forward concatenates the branches with torch.cat: no module, so no name of its own.
        ("", new Concat(Branches.Select(b => (b.Name, (Layer)new Sequential(
        [
            ("conv1", ConvBlock(32, 1, b.Taps, b.Stride)),
            ("conv2", ConvBlock(32, 1, 11, 1)),
            ("squeeze", Reshape.Squeeze(1)),
            ("pool2", WindowPool.MaxPool1d(b.Pool, padding: 6)),
        ]))), stackAsImageRows: true)),
        ("block", new Sequential(
        [
            ("conv1", ConvBlock(64, 3, 3, 1)), ("pool1", new MaxPool2d(3, 11)),
            ("conv2", ConvBlock(128, 3, 3, 1)), ("pool2", new MaxPool2d(2, 2)),
            ("conv3", ConvBlock(256, 3, 3, 1)), ("pool3", new MaxPool2d(2, 2)),
            ("conv4", ConvBlock(256, 3, 3, 1)), ("pool4", new MaxPool2d(2, 2)),
        ])),
        ("flatten", new Flatten()),
        ("fc1", new LinearBlock(4096, 0.5f, LayerSeeds.Derive(seed, 0))),
        ("fc2", new Linear(Classes)),
    ]);

    /// <summary>esc-learner's wavemsnet Conv2DBatchNorm: Conv2d (with bias) with stride in both axes, BatchNorm2d, ReLU
    /// as "module".</summary>
    private static Layer ConvBlock(int channels, int kernelH, int kernelW, int stride) => new Sequential([("module", new Sequential(
    [
        ("0", new Conv2d(channels, kernelH, kernelW, stride, stride, bias: true)),
        ("1", new BatchNorm2d()),
        ("2", new ReLU()),
    ]))]);
}

/// <summary>The WaveMsNet model of the registry.</summary>
public static class WaveMsNetModels
{
    public const string Name = "wavemsnet";

    public static readonly TrainingRecipe Recipe = new(OptimizerKind.SgdMomentum, 160, 0.1, TrainingRecipe.StepsAtEpochs(160, 60, 120, 140),
        WarmupEpochs: 0, Batch: 32, Momentum: 0.9, WeightDecay: 5e-4, TestCrops: 10, DoubleEpochsWithBetweenClass: false);

    public static readonly ModelDefinition WaveMsNet = new(Name, "Zhu et al., IJCNN 2018, as esc-learner", classes => new WaveMsNetConfig(classes), Recipe);
}
