namespace EnvNet.Network;

/// <summary>EnvNet-v2 (Tokozume, Ushiku &amp; Harada, "Learning from between-class examples for deep sound
/// recognition", ICLR 2018) and its small version for CPU tests.</summary>
public static class EnvNetV2Models
{
    /// <summary>The authors' recipe for ESC-50: 1000 epochs, lr 0.1 divided by 10 after 30 %, 60 % and 90 %, the
    /// first 10 epochs at a tenth of it; on ESC-10 they train it with EnvNet's recipe.</summary>
    public static readonly TrainingRecipe Recipe =
        new(OptimizerKind.SgdNesterov, 1000, 0.1, [0.3, 0.6, 0.9], WarmupEpochs: 10, Batch: 64, Momentum: 0.9, WeightDecay: 5e-4, TestCrops: 10);

    // 1.5 s at 44.1 kHz.
    public static readonly ModelDefinition EnvNetV2 = new("envnet-v2", "Tokozume, Ushiku & Harada, ICLR 2018",
        classes => new EnvNetConfig("envnet-v2", 44100, 66650, classes,
            Features: new([new(32, 1, 64, 1, 2), new(64, 1, 16, 1, 2)], new(1, 64)),
            ClassifierStages:
            [
                new([new(32, 8, 8), new(32, 8, 8)], new(5, 3)),
                new([new(64, 1, 4), new(64, 1, 4)], new(1, 2)),
                new([new(128, 1, 2), new(128, 1, 2)], new(1, 2)),
                new([new(256, 1, 2), new(256, 1, 2)], new(1, 2)),
            ],
            HiddenFeatures: [4096, 4096]),
        Recipe, Esc10Recipe: EnvNetModels.Recipe);

    // For CPU tests: envnet-v2's layers and names with small sizes, ~0.25 s at 16 kHz, ~2 MFLOP and ~20k convolution
    // outputs per sample.
    public static readonly ModelDefinition EnvNetV2Tiny = new("envnet-v2-tiny", "envnet-v2's layers, small, for CPU tests",
        classes => new EnvNetConfig("envnet-v2-tiny", 16000, 4056, classes,
            Features: new([new(8, 1, 16, 1, 8), new(16, 1, 8, 1, 2)], new(1, 5)),
            ClassifierStages:
            [
                new([new(8, 3, 3), new(8, 3, 3)], new(2, 2)),
                new([new(16, 1, 2), new(16, 1, 2)], new(1, 2)),
                new([new(16, 1, 2), new(16, 1, 2)], new(1, 2)),
                new([new(32, 1, 2), new(32, 1, 2)], new(1, 2)),
            ],
            HiddenFeatures: [256, 256]),
        Recipe, Esc10Recipe: EnvNetModels.Recipe);
}
