using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// The tiled shared-memory kernels for GPUs: convolutions and the fused Conv→BN→ReLU block through
/// <see cref="TiledConvKernels"/> where <see cref="TiledConvOps.Plan"/> finds a plan (else the plain kernels), the
/// fully connected layers through the tiled GEMM split along K. The default on CUDA. Not on OpenCL: the tiled
/// convolutions reduce with warp shuffles, which ILGPU 1.5.3's OpenCL backend does not generate for a device without
/// sub-groups (<see cref="CompilesOn"/>). On ILGPU's CPU accelerator they run with GPU group shapes, for the tests.
/// </summary>
public sealed class TiledKernelBackend : KernelBackend
{
    public TiledKernelBackend(Accelerator accelerator) : base(accelerator)
    {
        if (!CompilesOn(accelerator))
            throw new NotSupportedException($"The tiled kernels use warp shuffles, which ILGPU does not generate on {accelerator.AcceleratorType}.");
    }

    /// <summary>Whether kernels with warp shuffles compile: on CUDA and on the CPU accelerator (which simulates them),
    /// not on OpenCL (measured on an Intel/PoCL CPU OpenCL device reporting warp size 0:
    /// InvalidCodeGenerationException at CLCodeGenerator.GenerateCode(WarpShuffle)).</summary>
    public static bool CompilesOn(Accelerator accelerator) => accelerator.AcceleratorType != AcceleratorType.OpenCL;

    public override string Name => "ILGPU tiled kernels";

    public override IConv2dOp Conv2d(Conv2dShape shape, bool needsInputGradient)
    {
        var tiled = TiledConvOps.For(Accelerator);
        return tiled.Plan(shape) is { } plan
            ? new TiledConv2dOp(tiled, plan, Accelerator, needsInputGradient)
            : base.Conv2d(shape, needsInputGradient);
    }

    public override ILinearOp Linear(int maxBatch, int inFeatures, int outFeatures, bool needsInputGradient) =>
        new TiledLinearOp(GemmOps.For(Accelerator), LinearOps.For(Accelerator), Accelerator, maxBatch, inFeatures, outFeatures, needsInputGradient);

    public override IConvBatchNormReLUOp? ConvBatchNormReLU(Conv2dShape shape, bool needsInputGradient)
    {
        var tiled = TiledConvOps.For(Accelerator);
        return tiled.Plan(shape) is { } plan ? new TiledConvBatchNormReLUOp(tiled, BatchNormFusedOps.For(Accelerator), plan, Accelerator) : null;
    }
}

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

/// <summary>
/// Conv→BN→ReLU fused: forward = tiled convolution writing y and BatchNorm's per-tile statistics in its epilogue →
/// per-channel combine → one pass y → ReLU(BN(y)); backward = one reduction pass over (y, da) for dγ, dβ → one pass
/// writing dy → tiled input and weight gradients.
/// </summary>
internal sealed class TiledConvBatchNormReLUOp : IConvBatchNormReLUOp
{
    private readonly TiledConvOps _tiled;
    private readonly BatchNormFusedOps _fused;
    private readonly TiledConvPlan _plan;
    private readonly int _spatial;
    private readonly DeviceTensor _y, _gradY, _statistics, _convPartial, _rearranged, _normPartial, _mean, _invStd, _scale;

    public TiledConvBatchNormReLUOp(TiledConvOps tiled, BatchNormFusedOps fused, TiledConvPlan plan, Accelerator accelerator)
    {
        (_tiled, _fused, _plan) = (tiled, fused, plan);
        var conv = plan.Conv;
        var channels = conv.Cout;
        _spatial = conv.OutH * conv.OutW;
        _y = new DeviceTensor(accelerator, conv.N, channels, conv.OutH, conv.OutW);
        _gradY = new DeviceTensor(accelerator, conv.N, channels, conv.OutH, conv.OutW);
        _statistics = new DeviceTensor(accelerator, (int)plan.StatisticsLength);
        _convPartial = new DeviceTensor(accelerator, (int)plan.PartialLength);
        _rearranged = new DeviceTensor(accelerator, (int)conv.WeightLength);
        _normPartial = new DeviceTensor(accelerator, (int)BatchNormFusedOps.GradientPartialLength(channels, conv.N, _spatial));
        _mean = new DeviceTensor(accelerator, channels);
        _invStd = new DeviceTensor(accelerator, channels);
        _scale = new DeviceTensor(accelerator, channels);
    }

    public void Forward(int batch, bool training, ArrayView<float> input, ConvBatchNormReLUParameters p, ArrayView<float> output)
    {
        var channels = _plan.Conv.Cout;
        var y = _y.Slice((long)batch * channels * _spatial);
        if (training)
        {
            var statistics = _statistics.Slice(_plan.StatisticsLengthFor(batch));
            _tiled.Forward(_plan, batch, input, p.ConvWeight, y, statistics);
            _fused.CombineStatistics(channels, batch * _plan.Forward.Tiles, statistics, p.Gamma, p.Momentum, p.Eps,
                _mean.View, _invStd.View, _scale.View, p.RunningMean, p.RunningVar);
            _fused.NormalizeRelu(batch, channels, _spatial, y, _mean.View, _scale.View, p.Beta, output);
        }
        else
        {
            _tiled.Forward(_plan, batch, input, p.ConvWeight, y, ArrayView<float>.Empty);
            _fused.EvalScale(channels, p.RunningVar, p.Gamma, p.Eps, _invStd.View, _scale.View);
            _fused.NormalizeRelu(batch, channels, _spatial, y, p.RunningMean, _scale.View, p.Beta, output);
        }
    }

    public void Backward(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ConvBatchNormReLUParameters p, ArrayView<float> gradInput)
    {
        var channels = _plan.Conv.Cout;
        var length = (long)batch * channels * _spatial;
        var y = _y.Slice(length);
        var gradY = _gradY.Slice(length);
        _fused.ParameterGradients(batch, channels, _spatial, y, gradOutput, _mean.View, _invStd.View, _scale.View, p.Beta,
            _normPartial.View, p.GammaGrad, p.BetaGrad);
        _fused.InputGradient(batch, channels, _spatial, y, gradOutput, _mean.View, _invStd.View, _scale.View, p.Beta,
            p.GammaGrad, p.BetaGrad, gradY);
        _tiled.BackwardWeight(_plan, batch, input, gradY, _convPartial.View, p.ConvWeightGrad);
        if (gradInput.Length > 0) _tiled.BackwardInput(_plan, batch, gradY, p.ConvWeight, _rearranged.View, gradInput);
    }

    public void Dispose()
    {
        foreach (var tensor in new[] { _y, _gradY, _statistics, _convPartial, _rearranged, _normPartial, _mean, _invStd, _scale })
            tensor.Dispose();
    }
}
