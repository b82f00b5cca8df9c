using EnvNet.Network.Layers;

namespace EnvNet.Network;

/// <summary>
/// AbdoliNet (Abdoli, Cardinal &amp; Koerich, "End-to-end environmental sound classification using a 1D convolutional
/// neural network", Expert Systems with Applications, 2019) as esc-learner's AbdoliNet, with its state_dict names:
/// four 1-D convolutions over a 1 s segment at 16 kHz, each Conv1d (with bias), ReLU, then BatchNorm1d (the paper's
/// order: ReLU before the normalisation), max pools of 8 after the first two, and three fully connected layers
/// (128, 64, classes) with dropout 0.5 after the hidden ones. The network classifies one segment; esc-learner
/// averages the segments' softmax outputs per clip ("majority_vote"), which is the caller's business.
/// </summary>
public static class AbdoliNetModel
{
    public const int SampleRate = 16000;

    /// <summary>One 1 s segment: 16000 → conv1 (16, 7969) → pool (16, 996) → conv2 (32, 483) → pool (32, 60) → conv3
    /// (64, 23) → conv4 (128, 8), flattened to 1024 features.</summary>
    public const int InputLength = 16000;

    public static int[] InputShape => [1, InputLength];

    /// <summary>esc-learner's module tree: "feature_conv" (conv1, pool1, conv2, pool2, conv3, conv4) and "classifier"
    /// (flatten, fc5, fc6, fc7); a convolution's tensors are "convK.module.0.weight" [out, in, kernel] and
    /// ".bias", its normalisation "convK.module.2.*".</summary>
    public static Sequential CreateNetwork(int classes, int seed) => new(
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
            ("fc7", new Linear(classes)),
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
