using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

public interface ISgdOps
{
    /// <summary>Updates the parameter and its momentum buffer in place; all three views have the same length.</summary>
    void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> momentumBuffer, SgdArgs args);
}

/// <summary>Hyper-parameters of one SGD step. Nesterov is an int because kernel arguments must be blittable.</summary>
public readonly struct SgdArgs(float learningRate, float momentum, float weightDecay, bool nesterov)
{
    public readonly float LearningRate = learningRate;
    public readonly float Momentum = momentum;
    public readonly float WeightDecay = weightDecay;
    public readonly int Nesterov = nesterov ? 1 : 0;
}
