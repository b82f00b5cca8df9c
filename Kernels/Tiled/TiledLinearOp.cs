using ILGPU;
using ILGPU.Runtime;
using EnvNet.Kernels.Plain;

namespace EnvNet.Kernels.Tiled;

/// <summary>
/// The tiled GEMM. x·Wᵀ and dy·W (M = batch rows only) are split along K (<see cref="GemmOps.PlanSplit"/>, planned for
/// the largest batch, one scratch buffer for both) and the bias is added in the split reduction.
/// </summary>
internal sealed class TiledLinearOp : ILinearOp
{
    private readonly GemmOps _gemm;
    private readonly LinearOps _bias;
    private readonly int _in, _out;
    private readonly GemmSplit _forwardSplit, _inputGradientSplit;
    private readonly DeviceTensor? _scratch;

    public TiledLinearOp(GemmOps gemm, LinearOps bias, Accelerator accelerator, int maxBatch, int inFeatures, int outFeatures, bool needsInputGradient)
    {
        (_gemm, _bias, _in, _out) = (gemm, bias, inFeatures, outFeatures);
        var forward = new GemmShape(maxBatch, outFeatures, inFeatures, false, true);
        var inputGradient = new GemmShape(maxBatch, inFeatures, outFeatures, false, false);
        _forwardSplit = gemm.PlanSplit(forward);
        _inputGradientSplit = needsInputGradient ? gemm.PlanSplit(inputGradient) : GemmSplit.None(inputGradient);
        var scratch = Math.Max(_forwardSplit.ScratchLength(forward), _inputGradientSplit.ScratchLength(inputGradient));
        _scratch = scratch > 0 ? new DeviceTensor(accelerator, (int)scratch) : null;
    }

    private ArrayView<float> Scratch => _scratch?.View ?? ArrayView<float>.Empty;

    public void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> output) =>
        _gemm.Multiply(input, weight, output, new GemmShape(batch, _out, _in, false, true), _forwardSplit, Scratch, bias);

    public void BackwardParameters(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight, ArrayView<float> gradBias)
    {
        _gemm.Multiply(gradOutput, input, gradWeight, new GemmShape(_out, _in, batch, true, false));
        _bias.BiasGradient(gradOutput, gradBias, batch, _out);
    }

    public void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput) =>
        _gemm.Multiply(gradOutput, weight, gradInput, new GemmShape(batch, _in, _out, false, false), _inputGradientSplit, Scratch, ArrayView<float>.Empty);

    public void Dispose() => _scratch?.Dispose();
}
