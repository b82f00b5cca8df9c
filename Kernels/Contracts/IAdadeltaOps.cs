using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>Hyper-parameters of one Adadelta step.</summary>
public readonly struct AdadeltaArgs(float learningRate, float rho, float eps, float weightDecay)
{
    public readonly float LearningRate = learningRate;
    public readonly float Rho = rho;
    public readonly float Eps = eps;
    public readonly float WeightDecay = weightDecay;
}

public interface IAdadeltaOps
{
    /// <summary>Updates the parameter and both accumulators in place; all four views have the same length.</summary>
    void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> squareAvg, ArrayView<float> accDelta, AdadeltaArgs args);
}
