using EnvNet.Network.Layers;

namespace EnvNet.Network;

/// <summary>Sizes of one convolution block (Conv2d without bias, BatchNorm2d, ReLU).</summary>
public sealed record ConvSize(int OutChannels, int KernelH, int KernelW, int StrideH = 1, int StrideW = 1);

/// <summary>A max pooling whose stride equals its window, as <c>torch.nn.MaxPool2d(kernel)</c>.</summary>
public sealed record PoolSize(int KernelH, int KernelW);

/// <summary>Convolution blocks followed by one max pooling.</summary>
public sealed record ConvStage(IReadOnlyList<ConvSize> Convs, PoolSize Pool);

/// <summary>
/// Every size of an EnvNet-style network (EnvNet, EnvNet-v2 and their tiny versions). One builder turns any config
/// into layers named as in PyTorch: convolutions and fully connected layers are numbered from 1 in order (conv1,
/// conv2, ..., fc5, ...), a pooling takes the number of the convolution before it (pool2), so "envnet" and
/// "envnet-v2" get the papers' names.
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
    float DropoutProbability = 0.5f) : ModelConfig(Name, SampleRate, InputLength, Classes)
{
    public const string FeatureSection = "feature_conv";
    public const string ClassifierSection = "classifier";

    /// <summary>The waveform as a one-channel, one-row image, as PyTorch's unsqueeze(1).</summary>
    public override int[] InputShape => [1, 1, InputLength];

    /// <summary>feature_conv up to its pooling (the transpose after it only turns the (filters,1,frames) output into an image).</summary>
    public override IReadOnlyList<FilterBankFrontEnd> FrontEnds =>
    [
        new(FeatureSection, [.. Enumerable.Range(1, Features.Convs.Count).Select(n => $"{FeatureSection}.conv{n}"),
            $"{FeatureSection}.pool{Features.Convs.Count}"]),
    ];

    /// <summary>Rows of the learned spectrogram: the filters of the last feature convolution.</summary>
    public int FeatureFilters => Features.Convs[^1].OutChannels;

    /// <summary>Time frames of the learned spectrogram: the width of feature_conv's built output.</summary>
    public int FeatureFrames => NetworkModel.FrontEndShape(this, FrontEnds[0])[^1];

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

    /// <summary>A registered EnvNet-family model by name (<see cref="ModelRegistry"/>).</summary>
    public static EnvNetConfig ByName(string model, int classes) =>
        ModelRegistry.Config(model, classes) as EnvNetConfig
        ?? throw new ArgumentException($"Model '{model}' is not an EnvNet-family model.", nameof(model));

    /// <summary>PyTorch's EnvNet: Sequential feature_conv (convolutions, pooling, transpose) and classifier
    /// (convolution stages, flatten, LinearBlocks, the last Linear).</summary>
    public override Layer CreateNetwork(int seed)
    {
        var features = new List<(string, Layer)>();
        var classifier = new List<(string, Layer)>();
        var number = 1;
        // Dropout seeds are indexed by the layer's position in the whole list, sections together.
        var position = 0;
        void Add(List<(string, Layer)> section, string name, Layer layer)
        {
            section.Add((name, layer));
            position++;
        }
        void AddStage(List<(string, Layer)> section, ConvStage stage)
        {
            foreach (var conv in stage.Convs) Add(section, $"conv{number++}", new ConvBlock(conv));
            Add(section, $"pool{number - 1}", new MaxPool2d(stage.Pool.KernelH, stage.Pool.KernelW));
        }

        AddStage(features, Features);
        Add(features, "transpose", new Transpose12());
        foreach (var stage in ClassifierStages) AddStage(classifier, stage);
        Add(classifier, "flatten", new Flatten());
        foreach (var hidden in HiddenFeatures)
            Add(classifier, $"fc{number++}", new LinearBlock(hidden, DropoutProbability, LayerSeeds.Derive(seed, position)));
        Add(classifier, $"fc{number}", new Linear(Classes));
        return new Sequential([(FeatureSection, new Sequential(features)), (ClassifierSection, new Sequential(classifier))]);
    }
}
