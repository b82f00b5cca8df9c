using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>torch.nn.MaxPool2d((kernelH, kernelW)) with stride = kernel, no padding, floor mode, on (C,H,W)
/// samples; kernels in <see cref="PoolKernels"/>. Keeps the forward's argmax for backward.</summary>
public sealed class MaxPool2d : Layer
{
    private readonly int _kernelH, _kernelW;
    private IPoolOps? _ops;
    private MaxPool2dShape _shape;
    private DeviceTensor? _output, _gradInput;
    private MemoryBuffer1D<int, Stride1D.Dense>? _argmax;
    private int _forwardBatch;

    public MaxPool2d(int kernelH, int kernelW)
    {
        if (kernelH < 1 || kernelW < 1)
            throw new ArgumentException($"MaxPool2d: kernel sizes must be positive; got {kernelH}x{kernelW}.");
        (_kernelH, _kernelW) = (kernelH, kernelW);
    }

    public (int H, int W) Kernel => (_kernelH, _kernelW);

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        var (c, h, w) = LayerGuards.RequireImage(nameof(MaxPool2d), inputShape);
        _shape = new MaxPool2dShape(maxBatch, c, h, w, _kernelH, _kernelW);
        _ops = device.Kernels.Pool;
        _output = new DeviceTensor(accelerator, maxBatch, c, _shape.OutH, _shape.OutW);
        _argmax = accelerator.Allocate1D<int>(_shape.OutputLength);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, c, h, w);
        return [c, _shape.OutH, _shape.OutW];
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var shape = _shape.WithBatch(pass.Batch);
        var output = LayerGuards.Built(_output, this).Slice(shape.OutputLength);
        _ops!.MaxPoolForward(shape, input, output, _argmax!.View);
        _forwardBatch = pass.Batch;
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var shape = _shape.WithBatch(pass.Batch);
        var gradInput = _gradInput.Slice(shape.InputLength);
        _ops!.MaxPoolBackward(shape, gradOutput, _argmax!.View, gradInput);
        return gradInput;
    }

    public override void Dispose()
    {
        _output?.Dispose();
        _argmax?.Dispose();
        _gradInput?.Dispose();
        base.Dispose();
    }
}
