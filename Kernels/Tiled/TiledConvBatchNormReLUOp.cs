using ILGPU;
using ILGPU.Runtime;
using EnvNet.Kernels.Plain;

namespace EnvNet.Kernels.Tiled;

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
