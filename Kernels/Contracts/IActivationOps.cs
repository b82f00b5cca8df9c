using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

public interface IActivationOps
{
    /// <summary>output[i] = max(input[i], 0) for the first <paramref name="count"/> elements.</summary>
    void ReluForward(long count, ArrayView<float> input, ArrayView<float> output);

    /// <summary>gradInput[i] = output[i] &gt; 0 ? gradOutput[i] : 0, from the forward's output.</summary>
    void ReluBackward(long count, ArrayView<float> output, ArrayView<float> gradOutput, ArrayView<float> gradInput);
}
