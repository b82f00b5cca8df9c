using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.Sequential(Conv2d(bias=False), BatchNorm2d, ReLU) with children "0", "1", "2", so the state-dict names and
/// order are PyTorch's (<c>module.0.weight</c>, <c>module.1.running_var</c>, …), run as one fused op where the device
/// has one for the shape (<see cref="KernelBackend.ConvBatchNormReLU"/>). The children then hold only the parameters
/// and state (built for one sample); without a fused op, the children run one after another as a plain Sequential.
/// </summary>
public sealed class ConvBatchNormReLU : Sequential
{
    private readonly Conv2d _conv;
    private readonly BatchNorm2d _norm;
    private readonly float _eps, _momentum;
    private readonly int _outChannels, _kernelH, _kernelW, _strideH, _strideW;
    private IConvBatchNormReLUOp? _fused;
    private DeviceTensor? _output, _gradInput;
    private long _outputPerSample, _inputPerSample;
    private ArrayView<float> _input;
    private int _forwardBatch;
    private bool _lastForwardTrained;

    public ConvBatchNormReLU(int outChannels, int kernelH, int kernelW, int strideH = 1, int strideW = 1, float eps = 1e-5f,
        float momentum = 0.1f)
        : this(new Conv2d(outChannels, kernelH, kernelW, strideH, strideW), new BatchNorm2d(eps, momentum), eps, momentum)
    {
        (_outChannels, _kernelH, _kernelW, _strideH, _strideW) = (outChannels, kernelH, kernelW, strideH, strideW);
    }

    private ConvBatchNormReLU(Conv2d conv, BatchNorm2d norm, float eps, float momentum)
        : base([("0", conv), ("1", norm), ("2", new ReLU())])
    {
        (_conv, _norm, _eps, _momentum) = (conv, norm, eps, momentum);
    }

    public Conv2d Conv => _conv;
    public BatchNorm2d Norm => _norm;

    /// <summary>Whether the fused op runs (the device has one for this shape).</summary>
    public bool IsFused => _fused is not null;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var (c, h, w) = LayerGuards.RequireImage(nameof(ConvBatchNormReLU), inputShape);
        var conv = new Conv2dShape(maxBatch, c, h, w, _outChannels, _kernelH, _kernelW, _strideH, _strideW);
        _fused = device.Kernels.ConvBatchNormReLU(conv, needsInputGradient);
        if (_fused is null) return base.OnBuild(device, inputShape, maxBatch, needsInputGradient);

        // Children hold parameters and running statistics only: built for one sample, never run.
        base.OnBuild(device, inputShape, 1, needsInputGradient: false);
        var accelerator = device.Accelerator;
        _output = new DeviceTensor(accelerator, maxBatch, conv.Cout, conv.OutH, conv.OutW);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, c, h, w);
        (_outputPerSample, _inputPerSample) = ((long)conv.Cout * conv.OutH * conv.OutW, (long)c * h * w);
        return [conv.Cout, conv.OutH, conv.OutW];
    }

    private ConvBatchNormReLUParameters Parameters => new(
        _conv.Weight.Value.View, _conv.Weight.Grad.View, _norm.Weight.Value.View, _norm.Weight.Grad.View,
        _norm.Bias.Value.View, _norm.Bias.Grad.View, _norm.RunningMean.View, _norm.RunningVar.View, _momentum, _eps);

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        if (_fused is null) return base.Forward(input, pass);
        LayerGuards.RequireInput(this, pass, input);
        var output = _output!.Slice(pass.Batch * _outputPerSample);
        _fused.Forward(pass.Batch, pass.Training, input, Parameters, output);
        if (pass.Training)
        {
            var counter = _norm.LocalBuffers.OfType<CounterState>().Single();
            counter.Set(counter.Get() + 1);
        }
        (_input, _forwardBatch, _lastForwardTrained) = (input, pass.Batch, pass.Training);
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        if (_fused is null) return base.Backward(gradOutput, pass);
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        if (!pass.Training || !_lastForwardTrained)
            throw new InvalidOperationException("ConvBatchNormReLU: Backward needs a training-mode Forward and a training pass.");
        var gradInput = _gradInput?.Slice(pass.Batch * _inputPerSample) ?? ArrayView<float>.Empty;
        _fused.Backward(pass.Batch, _input, gradOutput, Parameters, gradInput);
        return gradInput;
    }

    public override void Dispose()
    {
        _fused?.Dispose();
        _output?.Dispose();
        _gradInput?.Dispose();
        base.Dispose();
    }
}
