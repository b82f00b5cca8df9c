namespace EnvNet.Network;

/// <summary>EnvNet (Tokozume &amp; Harada, "Learning environmental sounds with end-to-end convolutional neural
/// networks", ICASSP 2017) and its small version for CPU demos and tests.</summary>
public static class EnvNetModels
{
    /// <summary>The authors' recipe for ESC-50 (and, for either EnvNet, for ESC-10): 600 epochs, lr 0.01 divided by 10
    /// after 50 % and 75 % of them, batch 64, Nesterov 0.9, weight decay 5e-4, 10 test crops.</summary>
    public static readonly TrainingRecipe Recipe =
        new(OptimizerKind.SgdNesterov, 600, 0.01, [0.5, 0.75], WarmupEpochs: 0, Batch: 64, Momentum: 0.9, WeightDecay: 5e-4, TestCrops: 10);

    // 1.5 s at 16 kHz plus 14 samples that the two unpadded 1x8 convolutions consume.
    public static readonly ModelDefinition EnvNet = new("envnet", "Tokozume & Harada, ICASSP 2017",
        classes => new EnvNetConfig("envnet", 16000, 24014, classes,
            Features: new([new(40, 1, 8), new(40, 1, 8)], new(1, 160)),
            ClassifierStages: [new([new(50, 8, 13)], new(3, 3)), new([new(50, 1, 5)], new(1, 3))],
            HiddenFeatures: [4096, 4096]),
        Recipe);

    // For CPU demos and CI: ~0.5 s at 16 kHz. The CPU accelerator pays per element as much as per FLOP, so the first
    // convolutions stride (a 2 ms learned filter bank every 0.5 ms, then pairs of those) and stay narrow: ~1.5 MFLOP
    // and ~22k convolution outputs per sample. Frames are 10 ms as in envnet (500 pooled by 10).
    public static readonly ModelDefinition EnvNetTiny = new("envnet-tiny", "envnet's layers, small, for CPU demos and tests",
        classes => new EnvNetConfig("envnet-tiny", 16000, 8040, classes,
            Features: new([new(8, 1, 32, 1, 8), new(16, 1, 4, 1, 2)], new(1, 10)),
            ClassifierStages: [new([new(8, 4, 5)], new(3, 3)), new([new(16, 1, 3)], new(1, 3))],
            HiddenFeatures: [256, 256]),
        Recipe);
}
