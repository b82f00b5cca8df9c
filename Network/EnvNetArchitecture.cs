using EnvNet.Kernels;
using EnvNet.Network.Layers;

namespace EnvNet.Network;

/// <summary>
/// The layer list of an <see cref="EnvNetConfig"/>, before anything is allocated: names, per-sample shapes and
/// parameter counts by arithmetic, and the layers themselves. The builder and the shape report both read this
/// one list, so they cannot disagree on names or order.
/// </summary>
internal static class EnvNetArchitecture
{
    public const string FeatureSection = "feature_conv";
    public const string ClassifierSection = "classifier";

    /// <summary>Per-sample input of the network: the waveform as a one-channel, one-row image, as PyTorch's unsqueeze(1).</summary>
    public static int[] InputShape(EnvNetConfig config) => [1, 1, config.InputLength];

    public static IReadOnlyList<LayerSpec> Layers(EnvNetConfig config)
    {
        var layers = new List<LayerSpec>();
        var number = 1;
        void AddStage(string section, ConvStage stage)
        {
            foreach (var conv in stage.Convs) layers.Add(new ConvBlockSpec(section, $"conv{number++}", conv));
            layers.Add(new MaxPoolSpec(section, $"pool{number - 1}", stage.Pool));
        }

        AddStage(FeatureSection, config.Features);
        layers.Add(new TransposeSpec(FeatureSection, "transpose"));
        foreach (var stage in config.ClassifierStages) AddStage(ClassifierSection, stage);
        layers.Add(new FlattenSpec(ClassifierSection, "flatten"));
        foreach (var hidden in config.HiddenFeatures)
            layers.Add(new LinearBlockSpec(ClassifierSection, $"fc{number++}", hidden, config.DropoutProbability));
        layers.Add(new LinearSpec(ClassifierSection, $"fc{number}", config.Classes));
        return layers;
    }

    /// <summary>Each layer with its input and output shape per sample; a clear error where a layer would get too small an input.</summary>
    public static IReadOnlyList<(LayerSpec Layer, int[] Input, int[] Output)> Shapes(EnvNetConfig config)
    {
        if (config.InputLength < 1 || config.Classes < 1)
            throw new ArgumentException(
                $"Model config '{config.Name}': InputLength and Classes must be positive, got {config.InputLength} and {config.Classes}.");
        var result = new List<(LayerSpec, int[], int[])>();
        var shape = InputShape(config);
        foreach (var layer in Layers(config))
        {
            var output = layer.OutputShape(shape);
            if (output.Any(d => d < 1))
                throw new ArgumentException(
                    $"Model config '{config.Name}': {layer.FullName} gets input {ShapeUtil.Format(shape)} and would output " +
                    $"{ShapeUtil.Format(output)}; make InputLength longer or the kernels, strides or pools smaller.");
            result.Add((layer, shape, output));
            shape = output;
        }
        return result;
    }

    /// <summary>Output shape of feature_conv per sample: (1, FeatureFilters, FeatureFrames).</summary>
    public static int[] FeatureShape(EnvNetConfig config) =>
        Shapes(config).Last(s => s.Layer.Section == FeatureSection).Output;

    /// <summary>The whole network as PyTorch's EnvNet: Sequential feature_conv and classifier, not yet built.</summary>
    public static Sequential CreateNetwork(EnvNetConfig config, int seed)
    {
        Shapes(config); // validates before anything is created
        var layers = Layers(config);
        Sequential Section(string name) => new(layers
            .Select((layer, index) => (layer, index))
            .Where(l => l.layer.Section == name)
            .Select(l => (l.layer.Name, l.layer.Create(DeriveSeed(seed, l.index)))));
        return new Sequential([(FeatureSection, Section(FeatureSection)), (ClassifierSection, Section(ClassifierSection))]);
    }

    /// <summary>An independent seed per layer (SplitMix64 finaliser), so two dropout layers never share a mask.</summary>
    public static ulong DeriveSeed(int seed, int layerIndex)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)layerIndex) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>One named layer of the layout. Shapes are per sample without the batch axis.</summary>
internal abstract record LayerSpec(string Section, string Name)
{
    public string FullName => Section + "." + Name;

    public abstract int[] OutputShape(int[] input);

    public virtual long ParameterCount(int[] input) => 0;

    /// <summary>Activation elements per sample the built layer keeps for training: every leaf layer holds its output
    /// and the gradient with respect to its input.</summary>
    public virtual long ActivationElements(int[] input, int[] output) => ShapeUtil.Elements(input) + ShapeUtil.Elements(output);

    public abstract Layer Create(ulong seed);

    protected static int Windows(int length, int kernel, int stride) => length < kernel ? 0 : (length - kernel) / stride + 1;

    protected static void RequirePositive(string what, params int[] sizes)
    {
        if (sizes.Any(s => s < 1))
            throw new ArgumentException($"{what} needs positive sizes, got {string.Join(", ", sizes)}.");
    }
}

internal sealed record ConvBlockSpec(string Section, string Name, ConvSize Size) : LayerSpec(Section, Name)
{
    public override int[] OutputShape(int[] input)
    {
        RequirePositive(FullName, Size.OutChannels, Size.KernelH, Size.KernelW, Size.StrideH, Size.StrideW);
        return [Size.OutChannels, Windows(input[1], Size.KernelH, Size.StrideH), Windows(input[2], Size.KernelW, Size.StrideW)];
    }

    public override long ParameterCount(int[] input) =>
        (long)Size.OutChannels * input[0] * Size.KernelH * Size.KernelW + 2L * Size.OutChannels;

    // Conv2d, BatchNorm2d and ReLU each keep an output and an input gradient.
    public override long ActivationElements(int[] input, int[] output) => ShapeUtil.Elements(input) + 5 * ShapeUtil.Elements(output);

    public override Layer Create(ulong seed) => new ConvBlock(Size);
}

internal sealed record MaxPoolSpec(string Section, string Name, PoolSize Size) : LayerSpec(Section, Name)
{
    public override int[] OutputShape(int[] input)
    {
        RequirePositive(FullName, Size.KernelH, Size.KernelW);
        return [input[0], input[1] / Size.KernelH, input[2] / Size.KernelW];
    }

    public override Layer Create(ulong seed) => new MaxPool2d(Size.KernelH, Size.KernelW);
}

internal sealed record TransposeSpec(string Section, string Name) : LayerSpec(Section, Name)
{
    public override int[] OutputShape(int[] input) => [input[1], input[0], input[2]];

    public override Layer Create(ulong seed) => new Transpose12();
}

internal sealed record FlattenSpec(string Section, string Name) : LayerSpec(Section, Name)
{
    public override int[] OutputShape(int[] input) => [(int)ShapeUtil.Elements(input)];

    public override Layer Create(ulong seed) => new Flatten();
}

internal sealed record LinearBlockSpec(string Section, string Name, int OutFeatures, float DropoutProbability) : LayerSpec(Section, Name)
{
    public override int[] OutputShape(int[] input)
    {
        RequirePositive(FullName, OutFeatures);
        return [OutFeatures];
    }

    public override long ParameterCount(int[] input) => (long)OutFeatures * input[0] + OutFeatures;

    // Linear, ReLU and Dropout each keep an output and an input gradient.
    public override long ActivationElements(int[] input, int[] output) => ShapeUtil.Elements(input) + 5 * ShapeUtil.Elements(output);

    public override Layer Create(ulong seed) => new LinearBlock(OutFeatures, DropoutProbability, seed);
}

internal sealed record LinearSpec(string Section, string Name, int OutFeatures) : LayerSpec(Section, Name)
{
    public override int[] OutputShape(int[] input)
    {
        RequirePositive(FullName, OutFeatures);
        return [OutFeatures];
    }

    public override long ParameterCount(int[] input) => (long)OutFeatures * input[0] + OutFeatures;

    public override Layer Create(ulong seed) => new Linear(OutFeatures);
}
