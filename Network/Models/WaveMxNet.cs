using EnvNet.Network.Layers;

namespace EnvNet.Network;

/// <summary>One step of a WaveMxNet layer list.</summary>
public abstract record WaveMxStep;

/// <summary>Conv1d (with bias, as PyTorch's default), BatchNorm1d, ReLU: esc-learner's Conv1DBatchNorm.</summary>
/// <param name="SamePadding">padding="same" (stride 1); otherwise no padding.</param>
public sealed record ConvStep(int Channels, int Kernel = 3, int Stride = 1, bool SamePadding = true) : WaveMxStep;

/// <summary>MaxPool1d(kernel), stride = kernel.</summary>
public sealed record MaxPoolStep(int Kernel, bool CeilMode = false) : WaveMxStep;

/// <summary>AvgPool1d(kernel), stride = kernel: esc-learner's fixed-size stand-in for the paper's global average pooling.</summary>
public sealed record AvgPoolStep(int Kernel) : WaveMxStep;

/// <summary>The mean over the whole length (AdaptiveAvgPool1d(1)): the paper's global average pooling.</summary>
public sealed record GlobalAvgPoolStep : WaveMxStep;

/// <summary>
/// A residual block of M34-res as torchvision's BasicBlock in 1-D: conv1 (3 taps, "same", no bias), bn1, relu, conv2,
/// bn2, plus the input, then ReLU; where the channels change, the input passes a 1-tap convolution and BatchNorm
/// ("downsample").
/// </summary>
public sealed record ResidualStep(int InChannels, int Channels) : WaveMxStep;

/// <summary>
/// A WaveMxNet (Dai, Dai, Qu, Li &amp; Das, "Very deep convolutional neural networks for raw waveforms", ICASSP 2017)
/// as esc-learner's <c>WaveMxNet(num_classes, m)</c>: <c>module</c> = Sequential(steps..., Flatten, Linear), so the
/// state_dict reads <c>module.0.module.0.weight</c> [channels, 1, 80] (Conv1DBatchNorm's Sequential of Conv1d,
/// BatchNorm1d, ReLU), ..., <c>module.N.weight</c> [classes, channels] (the Linear).
/// </summary>
/// <param name="Steps">The layers before Flatten and the last Linear, in order; the first is the convolution over the
/// raw waveform and the second its pooling, the front end the filter-bank probe reads.</param>
/// <param name="InputLength">Samples per input; the registered models take esc-learner's.</param>
public sealed record WaveMxNetConfig(string Name, int Classes, IReadOnlyList<WaveMxStep> Steps, int InputLength = WaveMxNetModels.InputLength)
    : ModelConfig(Name, WaveMxNetModels.SampleRate, InputLength, Classes)
{
    public const string Section = "module";

    /// <summary>The waveform as one channel, as esc-learner feeds it: (batch, 1, samples).</summary>
    public override int[] InputShape => [1, InputLength];

    public override IReadOnlyList<FilterBankFrontEnd> FrontEnds => [new("conv1", [$"{Section}.0", $"{Section}.1"])];

    public override Layer CreateNetwork(int seed)
    {
        var layers = Steps.Select(step => step switch
        {
            ConvStep c => (Layer)new Sequential([("module", ConvBatchNormReLU.OneDimensional(
                c.SamePadding ? Conv1d.SamePadding(c.Channels, c.Kernel) : new Conv1d(c.Channels, c.Kernel, c.Stride)))]),
            MaxPoolStep p => WindowPool.MaxPool1d(p.Kernel, ceilMode: p.CeilMode),
            AvgPoolStep a => WindowPool.AvgPool1d(a.Kernel),
            GlobalAvgPoolStep => WindowPool.GlobalAvgPool(),
            ResidualStep r => new Residual(
                [
                    ("conv1", Conv1d.SamePadding(r.Channels, 3, bias: false)), ("bn1", new BatchNorm1d()), ("relu", new ReLU()),
                    ("conv2", Conv1d.SamePadding(r.Channels, 3, bias: false)), ("bn2", new BatchNorm1d()),
                ],
                r.InChannels == r.Channels ? null
                    : ("downsample", new Sequential([("0", new Conv1d(r.Channels, 1, bias: false)), ("1", new BatchNorm1d())]))),
            _ => throw new ArgumentException($"Model '{Name}': unknown step {step}."),
        }).Append(new Flatten()).Append(new Linear(Classes));
        return new Sequential([(Section, new Sequential(layers.Select((layer, index) => ($"{index}", layer))))]);
    }
}

/// <summary>
/// The WaveMxNet models of esc-learner (github.com/arrrrrmin/esc-learner, <c>wavemxnet/model.py</c> and
/// <c>configs.py</c>): m3, m5, m11 and m18 of Dai et al. 2017, at 8 kHz. Where esc-learner differs from the paper, it
/// is followed:
/// <list type="bullet">
/// <item>Input 32,079 samples, not the paper's 32,000: the first convolution (80 taps, stride 4) is unpadded, and the
/// 79 extra samples give it exactly 8,000 outputs.</item>
/// <item>The paper's global average pooling is a fixed AvgPool1d over the length that input leaves (500 in m3, 32
/// otherwise), so the models take only that input length.</item>
/// <item>The last max pooling of m5, m11 and m18 uses ceil_mode (125 frames to 32, not 31).</item>
/// <item>The convolutions keep PyTorch's default bias although BatchNorm follows each of them.</item>
/// <item>Recipe: Adam, learning rate 1e-3 held constant, weight decay 1e-4, 100 epochs, batch 32 (the paper's
/// schedule is not in esc-learner).</item>
/// </list>
/// esc-learner trains them on UrbanSound8K, whose 4 s clips fit one window; an ESC-50 clip is 5 s, so validation
/// averages this project's 10 test crops over it, as for EnvNet.
/// </summary>
public static class WaveMxNetModels
{
    public const int SampleRate = 8000;
    public const int InputLength = 32079;

    public static readonly TrainingRecipe Recipe = new(OptimizerKind.Adam, 100, 1e-3, [], WarmupEpochs: 0, Batch: 32, Momentum: 0.9,
        WeightDecay: 1e-4, TestCrops: 10, DoubleEpochsWithBetweenClass: false);

    private const string Reference = "Dai et al., ICASSP 2017, as esc-learner";

    private static ConvStep Waveform(int channels) => new(channels, Kernel: 80, Stride: 4, SamePadding: false);

    private static IEnumerable<ConvStep> Convs(int channels, int count) => Enumerable.Repeat(new ConvStep(channels), count);

    private static ModelDefinition Define(string name, params IEnumerable<WaveMxStep>[] steps) =>
        new(name, Reference, classes => new WaveMxNetConfig(name, classes, steps.SelectMany(s => s).ToArray()), Recipe);

    public static readonly ModelDefinition M3 = Define("m3",
        [Waveform(256), new MaxPoolStep(4)],
        [new ConvStep(256), new MaxPoolStep(4)],
        [new AvgPoolStep(500)]);

    public static readonly ModelDefinition M5 = Define("m5",
        [Waveform(128), new MaxPoolStep(4)],
        [new ConvStep(128), new MaxPoolStep(4)],
        [new ConvStep(256), new MaxPoolStep(4)],
        [new ConvStep(512), new MaxPoolStep(4, CeilMode: true)],
        [new AvgPoolStep(32)]);

    public static readonly ModelDefinition M11 = Define("m11",
        [Waveform(64), new MaxPoolStep(4)],
        [.. Convs(64, 2), new MaxPoolStep(4)],
        [.. Convs(128, 2), new MaxPoolStep(4)],
        [.. Convs(256, 3), new MaxPoolStep(4, CeilMode: true)],
        [.. Convs(512, 2), new AvgPoolStep(32)]);

    public static readonly ModelDefinition M18 = Define("m18",
        [Waveform(64), new MaxPoolStep(4)],
        [.. Convs(64, 4), new MaxPoolStep(4)],
        [.. Convs(128, 4), new MaxPoolStep(4)],
        [.. Convs(256, 4), new MaxPoolStep(4, CeilMode: true)],
        [.. Convs(512, 4), new AvgPoolStep(32)]);

    /// <summary>
    /// M34-res of the paper (Table 1), which esc-learner lacks: 3, 4, 6 and 3 residual blocks of 48, 96, 192 and 384
    /// channels between max poolings of 4, then global average pooling. Its front end, input and recipe are those of
    /// esc-learner's models; its pools floor as the paper's, and its blocks follow torchvision's BasicBlock (no
    /// convolution bias, a 1-tap projection where the channels change), which the paper leaves open.
    /// </summary>
    public static readonly ModelDefinition M34Res = new("m34-res", "Dai et al., ICASSP 2017 (not in esc-learner)",
        classes => new WaveMxNetConfig("m34-res", classes,
        [
            Waveform(48), new MaxPoolStep(4),
            .. Stage(48, 48, 3), new MaxPoolStep(4),
            .. Stage(48, 96, 4), new MaxPoolStep(4),
            .. Stage(96, 192, 6), new MaxPoolStep(4),
            .. Stage(192, 384, 3), new GlobalAvgPoolStep(),
        ]),
        Recipe);

    private static IEnumerable<WaveMxStep> Stage(int inChannels, int channels, int blocks) =>
        Enumerable.Range(0, blocks).Select(i => new ResidualStep(i == 0 ? inChannels : channels, channels));
}
