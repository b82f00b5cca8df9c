using ILGPU;
using ILGPU.Runtime;
using EnvNet.Kernels.Plain;

namespace EnvNet.Kernels.Tiled;

/// <summary>The tiled convolution: correlation for the forward and the input gradient (over rearranged weights),
/// per-group partial weight gradients reduced in a fixed order.</summary>
internal sealed class TiledConv2dOp(TiledConvOps ops, TiledConvPlan plan, Accelerator accelerator, bool needsInputGradient) : IConv2dOp
{
    private readonly DeviceTensor _partial = new(accelerator, (int)plan.PartialLength);
    private readonly DeviceTensor? _rearranged = needsInputGradient ? new DeviceTensor(accelerator, (int)plan.Conv.WeightLength) : null;

    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output) =>
        ops.Forward(plan, batch, input, weight, output, ArrayView<float>.Empty);

    public void BackwardWeight(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight) =>
        ops.BackwardWeight(plan, batch, input, gradOutput, _partial.View, gradWeight);

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput) =>
        ops.BackwardInput(plan, batch, gradOutput, weight, _rearranged!.View, gradInput);

    public void Dispose()
    {
        _partial.Dispose();
        _rearranged?.Dispose();
    }
}
