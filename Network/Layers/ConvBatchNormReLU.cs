using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.Sequential(Conv2d(bias=False), BatchNorm2d, ReLU) with children "0", "1", "2", so the state-dict names and
/// order are PyTorch's (<c>module.0.weight</c>, <c>module.1.running_var</c>, …), run as one fused layer where the tiled
/// convolution applies (<see cref="TiledConvOps.Plan"/>):
/// forward = tiled convolution writing y and BatchNorm's per-tile statistics in its epilogue → per-channel combine →
/// one pass y → ReLU(BN(y)); backward = one reduction pass over (y, da) for dγ, dβ → one pass writing dy → tiled
/// input and weight gradients. The children then hold only the parameters and state (built for one sample); where the
/// tiled kernels do not apply, the children run one after another as a plain Sequential.
/// </summary>
public sealed class ConvBatchNormReLU : Sequential
{
    private readonly Conv2d _conv;
    private readonly BatchNorm2d _norm;
    private readonly float _eps, _momentum;
    private readonly int _outChannels, _kernelH, _kernelW, _strideH, _strideW;
    private readonly bool? _fusedChoice;
    private TiledConvOps? _tiled;
    private BatchNormFusedOps? _fused;
    private TiledConvPlan? _plan;
    private DeviceTensor? _y, _output, _gradY, _gradInput, _statistics, _convPartial, _rearranged, _normPartial;
    private DeviceTensor? _mean, _invStd, _scale;
    private ArrayView<float> _input;
    private int _forwardBatch;
    private bool _lastForwardTrained;
    private int _spatial;

    /// <param name="fused">Run fused where the tiled convolution applies: true, false, or null for the accelerator's
    /// default (<see cref="TiledConvOps.PreferredOn"/>: on CUDA).</param>
    public ConvBatchNormReLU(int outChannels, int kernelH, int kernelW, int strideH = 1, int strideW = 1, float eps = 1e-5f,
        float momentum = 0.1f, bool? fused = null)
        : this(new Conv2d(outChannels, kernelH, kernelW, strideH, strideW, tiledKernels: fused), new BatchNorm2d(eps, momentum), eps, momentum)
    {
        (_outChannels, _kernelH, _kernelW, _strideH, _strideW, _fusedChoice) = (outChannels, kernelH, kernelW, strideH, strideW, fused);
    }

    private ConvBatchNormReLU(Conv2d conv, BatchNorm2d norm, float eps, float momentum)
        : base([("0", conv), ("1", norm), ("2", new ReLU())])
    {
        (_conv, _norm, _eps, _momentum) = (conv, norm, eps, momentum);
    }

    public Conv2d Conv => _conv;
    public BatchNorm2d Norm => _norm;

    /// <summary>Whether the fused kernels run (the shape qualified for the tiled convolution).</summary>
    public bool IsFused => _plan is not null;

    protected override int[] OnBuild(Accelerator accelerator, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var (c, h, w) = LayerGuards.RequireImage(nameof(ConvBatchNormReLU), inputShape);
        var conv = ConvShape(c, h, w, maxBatch);
        _tiled = TiledConvOps.For(accelerator);
        _plan = (_fusedChoice ?? TiledConvOps.PreferredOn(accelerator)) ? _tiled.Plan(conv) : null;
        if (_plan is null) return base.OnBuild(accelerator, inputShape, maxBatch, needsInputGradient);

        // Children hold parameters and running statistics only: built for one sample, never run.
        base.OnBuild(accelerator, inputShape, 1, needsInputGradient: false);
        _fused = BatchNormFusedOps.For(accelerator);
        var channels = conv.Cout;
        _spatial = conv.OutH * conv.OutW;
        _y = new DeviceTensor(accelerator, maxBatch, channels, conv.OutH, conv.OutW);
        _output = new DeviceTensor(accelerator, maxBatch, channels, conv.OutH, conv.OutW);
        _gradY = new DeviceTensor(accelerator, maxBatch, channels, conv.OutH, conv.OutW);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, c, h, w);
        _statistics = new DeviceTensor(accelerator, (int)_plan.StatisticsLength);
        _convPartial = new DeviceTensor(accelerator, (int)_plan.PartialLength);
        _rearranged = new DeviceTensor(accelerator, (int)conv.WeightLength);
        _normPartial = new DeviceTensor(accelerator, (int)BatchNormFusedOps.GradientPartialLength(channels, maxBatch, _spatial));
        _mean = new DeviceTensor(accelerator, channels);
        _invStd = new DeviceTensor(accelerator, channels);
        _scale = new DeviceTensor(accelerator, channels);
        return [channels, conv.OutH, conv.OutW];
    }

    private Conv2dShape ConvShape(int c, int h, int w, int batch) =>
        new(batch, c, h, w, _outChannels, _kernelH, _kernelW, _strideH, _strideW);

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        if (_plan is null) return base.Forward(input, pass);
        LayerGuards.RequireInput(this, pass, input);
        var batch = pass.Batch;
        var channels = _plan.Conv.Cout;
        var length = (long)batch * channels * _spatial;
        var y = _y!.Slice(length);
        var output = _output!.Slice(length);
        if (pass.Training)
        {
            var statistics = _statistics!.Slice(_plan.StatisticsLengthFor(batch));
            _tiled!.Forward(_plan, batch, input, _conv.Weight.Value.View, y, statistics);
            _fused!.CombineStatistics(channels, batch * _plan.Forward.Tiles, statistics, _norm.Weight.Value.View, _momentum, _eps,
                _mean!.View, _invStd!.View, _scale!.View, _norm.RunningMean.View, _norm.RunningVar.View);
            _fused.NormalizeRelu(batch, channels, _spatial, y, _mean.View, _scale.View, _norm.Bias.Value.View, output);
            var counter = _norm.LocalBuffers.OfType<CounterState>().Single();
            counter.Set(counter.Get() + 1);
        }
        else
        {
            _tiled!.Forward(_plan, batch, input, _conv.Weight.Value.View, y, ArrayView<float>.Empty);
            _fused!.EvalScale(channels, _norm.RunningVar.View, _norm.Weight.Value.View, _eps, _invStd!.View, _scale!.View);
            _fused.NormalizeRelu(batch, channels, _spatial, y, _norm.RunningMean.View, _scale.View, _norm.Bias.Value.View, output);
        }
        (_input, _forwardBatch, _lastForwardTrained) = (input, batch, pass.Training);
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        if (_plan is null) return base.Backward(gradOutput, pass);
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        if (!pass.Training || !_lastForwardTrained)
            throw new InvalidOperationException("ConvBatchNormReLU: Backward needs a training-mode Forward and a training pass.");
        var batch = pass.Batch;
        var channels = _plan.Conv.Cout;
        var length = (long)batch * channels * _spatial;
        var y = _y!.Slice(length);
        var gradY = _gradY!.Slice(length);
        var beta = _norm.Bias.Value.View;
        _fused!.ParameterGradients(batch, channels, _spatial, y, gradOutput, _mean!.View, _invStd!.View, _scale!.View, beta,
            _normPartial!.View, _norm.Weight.Grad.View, _norm.Bias.Grad.View);
        _fused.InputGradient(batch, channels, _spatial, y, gradOutput, _mean.View, _invStd.View, _scale.View, beta,
            _norm.Weight.Grad.View, _norm.Bias.Grad.View, gradY);
        _tiled!.BackwardWeight(_plan, batch, _input, gradY, _convPartial!.View, _conv.Weight.Grad.View);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var gradInput = _gradInput.Slice(_plan.Conv.WithBatch(batch).InputLength);
        _tiled.BackwardInput(_plan, batch, gradY, _conv.Weight.Value.View, _rearranged!.View, gradInput);
        return gradInput;
    }

    public override void Dispose()
    {
        foreach (var tensor in new[] { _y, _output, _gradY, _gradInput, _statistics, _convPartial, _rearranged, _normPartial, _mean, _invStd, _scale })
            tensor?.Dispose();
        base.Dispose();
    }
}
