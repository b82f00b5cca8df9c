using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>A fully connected layer y = x·Wᵀ + b planned for one layer; owns its scratch buffers.</summary>
public interface ILinearOp : IDisposable
{
    void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> output);

    /// <summary>gradWeight = dyᵀ·x, gradBias = Σ_rows dy; overwrites both.</summary>
    void BackwardParameters(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight, ArrayView<float> gradBias);

    /// <summary>gradInput = dy·W; overwrites gradInput.</summary>
    void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput);
}
