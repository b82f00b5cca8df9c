using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

public interface ILossOps
{
    /// <summary>Fills gradLogits (rows × classes) and rowResults (rows × 2: loss, argmax hit); see
    /// <see cref="LossKernels.SoftmaxKl"/>.</summary>
    void SoftmaxKl(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> gradLogits, ArrayView<float> rowResults, SoftmaxKlArgs args);
}

/// <summary>Sizes of one softmax-KL pass over a batch of logit rows.</summary>
public readonly struct SoftmaxKlArgs(int rows, int classes)
{
    public readonly int Rows = rows;
    public readonly int Classes = classes;
    public readonly float InverseRows = 1f / rows;
}
