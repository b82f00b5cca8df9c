using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>The naive GEMM (one output per iteration) and the plain bias kernels.</summary>
internal sealed class PlainLinearOp(GemmOps gemm, LinearOps bias, int inFeatures, int outFeatures) : ILinearOp
{
    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> b, ArrayView<float> output)
    {
        gemm.MultiplyNaive(input, weight, output, new GemmShape(batch, outFeatures, inFeatures, false, true));
        bias.AddBias(output, b, batch, outFeatures);
    }

    public void BackwardParameters(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight, ArrayView<float> gradBias)
    {
        gemm.MultiplyNaive(gradOutput, input, gradWeight, new GemmShape(outFeatures, inFeatures, batch, true, false));
        bias.BiasGradient(gradOutput, gradBias, batch, outFeatures);
    }

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput) =>
        gemm.MultiplyNaive(gradOutput, weight, gradInput, new GemmShape(batch, inFeatures, outFeatures, false, false));

    public void Dispose() { }
}
