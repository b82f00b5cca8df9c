using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>The tensors of a Conv2d(bias=False) → BatchNorm2d → ReLU block that its fused op reads and writes.</summary>
public readonly record struct ConvBatchNormReLUParameters(
    ArrayView<float> ConvWeight, ArrayView<float> ConvWeightGrad,
    ArrayView<float> Gamma, ArrayView<float> GammaGrad, ArrayView<float> Beta, ArrayView<float> BetaGrad,
    ArrayView<float> RunningMean, ArrayView<float> RunningVar, float Momentum, float Eps);

/// <summary>Conv2d → BatchNorm2d → ReLU as one op planned for one layer; owns its intermediate buffers.</summary>
public interface IConvBatchNormReLUOp : IDisposable
{
    /// <summary>output = ReLU(BN(conv(input))); a training pass uses the batch's statistics and updates the running ones,
    /// an eval pass the running ones.</summary>
    void Forward(int batch, bool training, ArrayView<float> input, ConvBatchNormReLUParameters p, ArrayView<float> output);

    /// <summary>After a training Forward of the same input: writes the three parameter gradients and, unless
    /// <paramref name="gradInput"/> is empty, the input gradient.</summary>
    void Backward(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ConvBatchNormReLUParameters p, ArrayView<float> gradInput);
}
