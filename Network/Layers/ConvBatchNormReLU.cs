using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.Sequential(conv, batch norm, ReLU) with children "0", "1", "2", so the state-dict names and order are
/// PyTorch's (<c>module.0.weight</c>, <c>module.1.running_var</c>, …): Conv2d(bias=False) → BatchNorm2d (EnvNet's
/// blocks), or Conv1d (with its bias) → BatchNorm1d (esc-learner's Conv1DBatchNorm, <see cref="OneDimensional"/>). It
/// runs as one fused op where the device has one for the shape (<see cref="KernelBackend.ConvBatchNormReLU"/>); the
/// children then hold only the parameters and state (built for one sample). Without a fused op, the children run one
/// after another as a plain Sequential.
/// </summary>
public sealed class ConvBatchNormReLU : Sequential
{
    private readonly IConvolutionLayer _conv;
    private readonly IBatchNormLayer _norm;
    private readonly float _eps, _momentum;
    private IConvBatchNormReLUOp? _fused;
    private Conv2dShape _plan;
    private DeviceTensor? _output, _gradInput;
    private long _outputPerSample, _inputPerSample;
    private ArrayView<float> _input;
    private int _forwardBatch;
    private bool _lastForwardTrained;

    /// <summary>Conv2d(bias=False) → BatchNorm2d → ReLU.</summary>
    public ConvBatchNormReLU(int outChannels, int kernelH, int kernelW, int strideH = 1, int strideW = 1, float eps = 1e-5f,
        float momentum = 0.1f)
        : this(new Conv2d(outChannels, kernelH, kernelW, strideH, strideW), new BatchNorm2d(eps, momentum), eps, momentum)
    {
    }

    private ConvBatchNormReLU(Layer conv, Layer norm, float eps, float momentum)
        : base([("0", conv), ("1", norm), ("2", new ReLU())])
    {
        (_conv, _norm, _eps, _momentum) = ((IConvolutionLayer)conv, (IBatchNormLayer)norm, eps, momentum);
    }

    /// <summary><paramref name="conv"/> → BatchNorm1d → ReLU.</summary>
    public static ConvBatchNormReLU OneDimensional(Conv1d conv, float eps = 1e-5f, float momentum = 0.1f) =>
        new(conv, new BatchNorm1d(eps, momentum), eps, momentum);

    /// <summary>The convolution child (its parameters are the block's "0.*").</summary>
    public IConvolutionLayer Conv => _conv;

    /// <summary>"Conv2d+BatchNorm2d+ReLU" or "Conv1d+BatchNorm1d+ReLU".</summary>
    public string Kind => $"{_conv.GetType().Name}+{_norm.GetType().Name}+ReLU";


    /// <summary>The device's 2-D convolution the block runs, for one sample (after Build).</summary>
    public Conv2dShape SampleShape => MaxBatch > 0 ? _plan.WithBatch(1) : throw new InvalidOperationException("ConvBatchNormReLU is used before Build.");

    /// <summary>Whether the fused op runs (the device has one for this shape).</summary>
    public bool IsFused => _fused is not null;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        _plan = _conv.Plan(inputShape, maxBatch);
        _fused = device.Kernels.ConvBatchNormReLU(_plan, _conv.HasBias, needsInputGradient);
        if (_fused is null) return base.OnBuild(device, inputShape, maxBatch, needsInputGradient);

        // Children hold parameters and running statistics only: built for one sample, never run.
        base.OnBuild(device, inputShape, 1, needsInputGradient: false);
        var accelerator = device.Accelerator;
        _output = new DeviceTensor(accelerator, maxBatch, _plan.Cout, _plan.OutH, _plan.OutW);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, _plan.Cin, _plan.H, _plan.W);
        (_outputPerSample, _inputPerSample) = ((long)_plan.Cout * _plan.OutH * _plan.OutW, (long)_plan.Cin * _plan.H * _plan.W);
        return _conv.OutputShapeOf(_plan);
    }

    private ConvBatchNormReLUParameters Parameters => new(
        _conv.Weight.Value.View, _conv.Weight.Grad.View,
        _conv.Bias?.Value.View ?? ArrayView<float>.Empty, _conv.Bias?.Grad.View ?? ArrayView<float>.Empty,
        _norm.Weight.Value.View, _norm.Weight.Grad.View, _norm.Bias.Value.View, _norm.Bias.Grad.View,
        _norm.RunningMean.View, _norm.RunningVar.View, _momentum, _eps);

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        if (_fused is null) return base.Forward(input, pass);
        LayerGuards.RequireInput(this, pass, input);
        var output = _output!.Slice(pass.Batch * _outputPerSample);
        _fused.Forward(pass.Batch, pass.Training, input, Parameters, output);
        if (pass.Training)
        {
            var counter = ((Layer)_norm).LocalBuffers.OfType<CounterState>().Single();
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
