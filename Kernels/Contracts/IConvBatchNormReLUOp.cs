using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>The tensors of a convolution → BatchNorm → ReLU block that its fused op reads and writes;
/// <see cref="ConvBias"/> and <see cref="ConvBiasGrad"/> are empty where the convolution has no bias.</summary>
public readonly record struct ConvBatchNormReLUParameters(
    ArrayView<float> ConvWeight, ArrayView<float> ConvWeightGrad, ArrayView<float> ConvBias, ArrayView<float> ConvBiasGrad,
    ArrayView<float> Gamma, ArrayView<float> GammaGrad, ArrayView<float> Beta, ArrayView<float> BetaGrad,
    ArrayView<float> RunningMean, ArrayView<float> RunningVar, float Momentum, float Eps);

/// <summary>Conv2d (or Conv1d as a Conv2d over (C, 1, L)), its bias if any, → BatchNorm → ReLU as one op planned for one
/// layer; owns its intermediate buffers.</summary>
public interface IConvBatchNormReLUOp : IDisposable
{
    /// <summary>output = ReLU(BN(conv(input))); a training pass uses the batch's statistics and updates the running ones,
    /// an eval pass the running ones.</summary>
    void Forward(int batch, bool training, ArrayView<float> input, ConvBatchNormReLUParameters p, ArrayView<float> output);

    /// <summary>After a training Forward of the same input: writes the parameter gradients and, unless
    /// <paramref name="gradInput"/> is empty, the input gradient.</summary>
    void Backward(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ConvBatchNormReLUParameters p, ArrayView<float> gradInput);
}
