using EnvNet.Kernels;

namespace EnvNet.Network.Layers;

/// <summary>A convolution as <see cref="ConvBatchNormReLU"/> runs it: the device's 2-D convolution it plans for an input,
/// and its parameters. <see cref="Conv2d"/> and <see cref="Conv1d"/> (a 2-D convolution over (C, 1, L)).</summary>
public interface IConvolutionLayer
{
    /// <summary>The 2-D convolution for <paramref name="maxBatch"/> samples of <paramref name="inputShape"/> (per sample,
    /// checked as the layer's Build checks it).</summary>
    Conv2dShape Plan(int[] inputShape, int maxBatch);

    /// <summary>The per-sample output shape of <paramref name="plan"/> in this layer's layout.</summary>
    int[] OutputShapeOf(Conv2dShape plan);

    /// <summary>Known before Build.</summary>
    bool HasBias { get; }

    Parameter Weight { get; }

    /// <summary>Null when the layer has no bias.</summary>
    Parameter? Bias { get; }
}

/// <summary>A batch normalisation as <see cref="ConvBatchNormReLU"/> runs it: <see cref="BatchNorm2d"/> and
/// <see cref="BatchNorm1d"/> (a BatchNorm2d over (C, 1, L)).</summary>
public interface IBatchNormLayer
{
    Parameter Weight { get; }
    Parameter Bias { get; }
    DeviceTensor RunningMean { get; }
    DeviceTensor RunningVar { get; }
}
