using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// Hyper-parameters of one Adam step, with PyTorch's bias corrections already folded in on the host (in double, as
/// PyTorch computes them in Python floats): StepSize = lr / (1 − β1^t), BiasCorrection2Sqrt = √(1 − β2^t).
/// </summary>
public readonly struct AdamArgs(float stepSize, float beta1, float beta2, float eps, float weightDecay, float biasCorrection2Sqrt)
{
    public readonly float StepSize = stepSize;
    public readonly float Beta1 = beta1;
    public readonly float Beta2 = beta2;
    public readonly float Eps = eps;
    public readonly float WeightDecay = weightDecay;
    public readonly float BiasCorrection2Sqrt = biasCorrection2Sqrt;
}

public interface IAdamOps
{
    /// <summary>Updates the parameter and both moment buffers in place; all four views have the same length.</summary>
    void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> expAvg, ArrayView<float> expAvgSq, AdamArgs args);
}
