namespace EnvNet.Network;

/// <summary>Sizes of one convolution block (Conv2d without bias, BatchNorm2d, ReLU).</summary>
public sealed record ConvSize(int OutChannels, int KernelH, int KernelW, int StrideH = 1, int StrideW = 1);

/// <summary>A max pooling whose stride equals its window, as <c>torch.nn.MaxPool2d(kernel)</c>.</summary>
public sealed record PoolSize(int KernelH, int KernelW);

/// <summary>Convolution blocks followed by one max pooling.</summary>
public sealed record ConvStage(IReadOnlyList<ConvSize> Convs, PoolSize Pool);

/// <summary>
/// Every size of an EnvNet-style network. One builder turns any config into layers named as in PyTorch:
/// convolutions and fully connected layers are numbered from 1 in order (conv1, conv2, ..., fc5, ...), a pooling
/// takes the number of the convolution before it (pool2), so "envnet" and "envnet-v2" get the papers' names.
/// </summary>
/// <param name="Features">feature_conv: the convolutions over the raw waveform (input (1,1,InputLength)) and the
/// pooling to frames; a transpose(1,2) then turns its (filters,1,frames) output into a (1,filters,frames) image.</param>
/// <param name="ClassifierStages">The classifier's convolution stages over that image.</param>
/// <param name="HiddenFeatures">Output sizes of the LinearBlocks (Linear, ReLU, Dropout) before the last Linear.</param>
public sealed record EnvNetConfig(
    string Name,
    int SampleRate,
    int InputLength,
    int Classes,
    ConvStage Features,
    IReadOnlyList<ConvStage> ClassifierStages,
    IReadOnlyList<int> HiddenFeatures,
    float DropoutProbability = 0.5f)
{
    public static IReadOnlyList<string> ModelNames { get; } = ["envnet", "envnet-tiny", "envnet-v2", "envnet-v2-tiny"];

    /// <summary>Rows of the learned spectrogram: the filters of the last feature convolution.</summary>
    public int FeatureFilters => Features.Convs[^1].OutChannels;

    /// <summary>Time frames of the learned spectrogram: the width of feature_conv's output.</summary>
    public int FeatureFrames => EnvNetArchitecture.FeatureShape(this)[2];

    /// <summary>One line with every size, e.g. for logs: "envnet: 16000 Hz, 24014 samples, 50 classes; features conv 40x1x8 ...".</summary>
    public override string ToString()
    {
        static string Stage(ConvStage stage) =>
            string.Join(", ", stage.Convs.Select(c => $"conv {c.OutChannels}x{c.KernelH}x{c.KernelW}" +
                (c.StrideH == 1 && c.StrideW == 1 ? "" : $"/{c.StrideH}x{c.StrideW}")))
            + $", pool {stage.Pool.KernelH}x{stage.Pool.KernelW}";
        return $"{Name}: {SampleRate} Hz, {InputLength} samples, {Classes} classes; features {Stage(Features)}; " +
               $"classifier {string.Join("; ", ClassifierStages.Select(Stage))}; fc {string.Join(", ", HiddenFeatures)} " +
               $"(dropout {DropoutProbability}), {Classes}";
    }

    public static EnvNetConfig ByName(string model, int classes)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "A model needs at least one class.");
        return model switch
        {
            // Tokozume & Harada 2017: 1.5 s at 16 kHz plus 14 samples that the two unpadded 1x8 convolutions consume.
            "envnet" => new EnvNetConfig("envnet", 16000, 24014, classes,
                Features: new([new(40, 1, 8), new(40, 1, 8)], new(1, 160)),
                ClassifierStages: [new([new(50, 8, 13)], new(3, 3)), new([new(50, 1, 5)], new(1, 3))],
                HiddenFeatures: [4096, 4096]),

            // For CPU demos and CI: ~0.5 s at 16 kHz. The CPU accelerator pays per element as much as per FLOP, so the
            // first convolutions stride (a 2 ms learned filter bank every 0.5 ms, then pairs of those) and stay narrow:
            // ~1.5 MFLOP and ~22k convolution outputs per sample. Frames are 10 ms as in envnet (500 pooled by 10).
            "envnet-tiny" => new EnvNetConfig("envnet-tiny", 16000, 8040, classes,
                Features: new([new(8, 1, 32, 1, 8), new(16, 1, 4, 1, 2)], new(1, 10)),
                ClassifierStages: [new([new(8, 4, 5)], new(3, 3)), new([new(16, 1, 3)], new(1, 3))],
                HiddenFeatures: [256, 256]),

            // Tokozume, Ushiku & Harada 2018 (between-class learning): 1.5 s at 44.1 kHz.
            "envnet-v2" => new EnvNetConfig("envnet-v2", 44100, 66650, classes,
                Features: new([new(32, 1, 64, 1, 2), new(64, 1, 16, 1, 2)], new(1, 64)),
                ClassifierStages:
                [
                    new([new(32, 8, 8), new(32, 8, 8)], new(5, 3)),
                    new([new(64, 1, 4), new(64, 1, 4)], new(1, 2)),
                    new([new(128, 1, 2), new(128, 1, 2)], new(1, 2)),
                    new([new(256, 1, 2), new(256, 1, 2)], new(1, 2)),
                ],
                HiddenFeatures: [4096, 4096]),

            // For CPU tests: envnet-v2's layers and names with small sizes, ~0.25 s at 16 kHz, ~2 MFLOP and ~20k
            // convolution outputs per sample.
            "envnet-v2-tiny" => new EnvNetConfig("envnet-v2-tiny", 16000, 4056, classes,
                Features: new([new(8, 1, 16, 1, 8), new(16, 1, 8, 1, 2)], new(1, 5)),
                ClassifierStages:
                [
                    new([new(8, 3, 3), new(8, 3, 3)], new(2, 2)),
                    new([new(16, 1, 2), new(16, 1, 2)], new(1, 2)),
                    new([new(16, 1, 2), new(16, 1, 2)], new(1, 2)),
                    new([new(32, 1, 2), new(32, 1, 2)], new(1, 2)),
                ],
                HiddenFeatures: [256, 256]),

            _ => throw new ArgumentException(
                $"Unknown model '{model}'; expected one of: {string.Join(", ", ModelNames)}.", nameof(model)),
        };
    }
}
