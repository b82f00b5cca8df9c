using EnvNet.Network.Layers;

namespace EnvNet.Network;

/// <summary>
/// esc-learner's MultiResCnn (its "multires" package before it became WaveMsNet; after Zhu et al., "Learning
/// environmental sounds with multi-scale convolutional neural network", IJCNN 2018), with its state_dict names.
/// Three 1-D branches read the waveform (1.5 s at 44.1 kHz) at three resolutions: Conv1d (with bias) + BatchNorm1d +
/// ReLU with kernel 11 stride 1, 51 stride 5 and 101 stride 10, a second such layer of kernel 3, and max pools of 150,
/// 30 and 15, each giving (32, 440). Their outputs are stacked as the rows of a (1, 96, 440) image. Four 2-D blocks
/// read that image, each a 3x3 Conv2d (no bias, padding "same") + BatchNorm2d + ReLU of 64, 128, 256 and 256 filters
/// and max pools down to (4, 5); their outputs are joined along channels into (704, 4, 5), then a fully connected
/// layer of 4096 with dropout 0.5 (esc-learner's run sets every dropout to 0.5) and the classifier.
/// <para>Recipe: esc-learner's, the same as wavemsnet's (<see cref="WaveMsNetModels.Recipe"/>): SGD with momentum 0.9
/// (not Nesterov), learning rate 0.1 divided by 10 after epochs 60, 120 and 140 of 160, batch 32, weight decay 5e-4,
/// 10 test crops.</para>
/// </summary>
public sealed record MultiResCnnConfig(int Classes, int InputLength = MultiResCnnModels.InputLength)
    : ModelConfig(MultiResCnnModels.Name, 44100, InputLength, Classes)
{
    /// <summary>The waveform as one channel, as esc-learner feeds it: (batch, 1, samples).</summary>
    public override int[] InputShape => [1, InputLength];

    /// <summary>Each branch on its own: its (32, 440) output is 32 filters over 440 frames.</summary>
    public override IReadOnlyList<FilterBankFrontEnd> FrontEnds => Branches.Select(b => new FilterBankFrontEnd(b.Name, [b.Name])).ToArray();

    /// <summary>Name, first convolution's taps and stride, and the pooling to 440 frames of each branch.</summary>
    private static readonly (string Name, int Taps, int Stride, int Pool)[] Branches =
        [("branch1", 11, 1, 150), ("branch2", 51, 5, 30), ("branch3", 101, 10, 15)];

    /// <summary>The network with esc-learner's names: "branch1".."branch3" (conv1, conv2, pool2), "feature1".."feature4"
    /// (conv, pool1, pool2), "fc1" (module.0 Linear, module.1 ReLU, module.2 Dropout) and "fc2". The two
    /// concatenations are unnamed children, as torch.cat in the forward. Built for any input length whose three
    /// branches agree in length; fc1's input size follows from the built shapes (704·4·5 at 66150 samples).</summary>
    public override Sequential CreateNetwork(int seed) => new(
    [
        ("", new Concat(Branches.Select(b => (b.Name, (Layer)ResolutionBranch(b.Taps, b.Stride, b.Pool))), stackAsImageRows: true)),
        ("", new Concat(
        [
            ("feature1", FeatureBlock(64, (3, 11), (8, 8))),
            ("feature2", FeatureBlock(128, (6, 22), (4, 4))),
            ("feature3", FeatureBlock(256, (12, 44), (2, 2))),
            ("feature4", FeatureBlock(256, (20, 88))),
        ])),
        ("flatten", new Flatten()),
        ("fc1", new LinearBlock(4096, 0.5f, LayerSeeds.Derive(seed, 0))),
        ("fc2", new Linear(Classes)),
    ]);

    private static Sequential ResolutionBranch(int kernel, int stride, int pool) => new(
    [
        ("conv1", ConvBatchNormReLU1d(32, kernel, stride)),
        ("conv2", ConvBatchNormReLU1d(32, 3, 1)),
        ("pool2", WindowPool.MaxPool1d(pool)),
    ]);

    private static Sequential FeatureBlock(int filters, params (int H, int W)[] pools) => new(
    [
        ("conv", new Sequential(
        [
            ("module", new Sequential(
            [
                ("0", Conv2d.SamePadding(filters, 3, 3)),
                ("1", new BatchNorm2d()),
                ("2", new ReLU()),
            ])),
        ])),
        .. pools.Select((pool, i) => ($"pool{i + 1}", (Layer)new MaxPool2d(pool.H, pool.W))),
    ]);

    /// <summary>esc-learner's Conv1DBatchNorm: Sequential(Conv1d with bias, BatchNorm1d, ReLU) held as "module".</summary>
    private static Sequential ConvBatchNormReLU1d(int outChannels, int kernel, int stride) =>
        new([("module", ConvBatchNormReLU.OneDimensional(new Conv1d(outChannels, kernel, stride)))]);
}

/// <summary>The MultiResCnn model of the registry.</summary>
public static class MultiResCnnModels
{
    public const string Name = "multires";

    /// <summary>esc-learner's max_length for this model: 1.5 s at 44.1 kHz.</summary>
    public const int InputLength = 66150;

    public static readonly ModelDefinition MultiResCnn = new(Name, "after Zhu et al., IJCNN 2018, as esc-learner's MultiResCnn",
        classes => new MultiResCnnConfig(classes), WaveMsNetModels.Recipe);
}
