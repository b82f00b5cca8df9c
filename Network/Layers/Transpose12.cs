using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>torch.transpose(x, 1, 2) of a batch (N,C,H,W) → (N,H,C,W), materialised (the next layer reads it as
/// NCHW); kernel in <see cref="PoolKernels.Transpose12"/>. Backward is the transpose back.</summary>
public sealed class Transpose12 : Layer
{
    private ITransposeOps? _ops;
    private TransposeShape _shape;
    private DeviceTensor? _output, _gradInput;
    private int _forwardBatch;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        var (c, h, w) = LayerGuards.RequireImage(nameof(Transpose12), inputShape);
        _shape = new TransposeShape(maxBatch, c, h, w);
        _ops = device.Kernels.Transpose;
        _output = new DeviceTensor(accelerator, maxBatch, h, c, w);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, c, h, w);
        return [h, c, w];
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var shape = new TransposeShape(pass.Batch, _shape.A, _shape.B, _shape.W);
        var output = LayerGuards.Built(_output, this).Slice(shape.Length);
        _ops!.Transpose12(shape, input, output);
        _forwardBatch = pass.Batch;
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var shape = new TransposeShape(pass.Batch, _shape.A, _shape.B, _shape.W);
        var gradInput = _gradInput.Slice(shape.Length);
        _ops!.Transpose12(shape.Swapped, gradOutput, gradInput);
        return gradInput;
    }

    public override void Dispose()
    {
        _output?.Dispose();
        _gradInput?.Dispose();
        base.Dispose();
    }
}
