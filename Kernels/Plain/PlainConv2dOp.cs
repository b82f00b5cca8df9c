using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>The plain convolution kernels, one output per grid-stride iteration.</summary>
internal sealed class PlainConv2dOp(Conv2dOps ops, Conv2dShape shape) : IConv2dOp
{
    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output) =>
        ops.Forward(shape.WithBatch(batch), input, weight, output);

    public void BackwardWeight(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight) =>
        ops.BackwardWeight(shape.WithBatch(batch), input, gradOutput, gradWeight);

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput) =>
        ops.BackwardInput(shape.WithBatch(batch), gradOutput, weight, gradInput);

    public void Dispose() { }
}
