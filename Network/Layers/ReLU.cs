using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>torch.nn.ReLU on samples of any shape; kernels in <see cref="ActivationKernels"/>. Backward reads the
/// layer's own output (dx = dy where y &gt; 0), so it needs no copy of the input.</summary>
public sealed class ReLU : Layer
{
    private IActivationOps? _ops;
    private DeviceTensor? _output, _gradInput;
    private ArrayView<float> _forwardOutput;
    private int _forwardBatch;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        _ops = device.Kernels.Activation;
        _output = new DeviceTensor(accelerator, [maxBatch, .. inputShape]);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, [maxBatch, .. inputShape]);
        return (int[])inputShape.Clone();
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var count = pass.Batch * ShapeUtil.Elements(InputShape);
        _forwardOutput = LayerGuards.Built(_output, this).Slice(count);
        _ops!.ReluForward(count, input, _forwardOutput);
        _forwardBatch = pass.Batch;
        return _forwardOutput;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var count = pass.Batch * ShapeUtil.Elements(InputShape);
        var gradInput = _gradInput.Slice(count);
        _ops!.ReluBackward(count, _forwardOutput, gradOutput, gradInput);
        return gradInput;
    }

    public override void Dispose()
    {
        _output?.Dispose();
        _gradInput?.Dispose();
        base.Dispose();
    }
}
