using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Host;

/// <summary>
/// Conv2d (or Conv1d over (C, 1, L)) → BatchNorm → ReLU on the host as one op: the host convolution writes y (and adds
/// its bias, if any, as the layer would); forward = statistics of y, then one pass y → ReLU(BN(y)); backward = one pass
/// over (y, da) for dγ and dβ with the ReLU mask recomputed from y, one pass writing dy, then the convolution's
/// gradients. Against the three layers one after another this skips writing and reading BN's output and the ReLU's
/// gradient (the two widest tensors of EnvNet and of the esc-learner networks), with the same arithmetic, so the same
/// bits.
/// </summary>
internal sealed unsafe class HostConvBatchNormReLUOp<TSimd, TVector> : IConvBatchNormReLUOp where TSimd : ISimd<TVector> where TVector : unmanaged
{
    private readonly HostConv2dOp<TSimd, TVector> _conv;
    private readonly Conv2dShape _shape;
    private readonly DeviceTensor _y, _gradY;
    private readonly HostBuffer<float> _mean, _invStd;
    private readonly HostChannelBiasOps<TSimd, TVector>? _bias;

    public HostConvBatchNormReLUOp(Accelerator accelerator, Conv2dShape shape, bool convBias)
    {
        _shape = shape;
        _bias = convBias ? new HostChannelBiasOps<TSimd, TVector>() : null;
        _conv = new HostConv2dOp<TSimd, TVector>(shape);
        _y = new DeviceTensor(accelerator, shape.N, shape.Cout, shape.OutH, shape.OutW);
        _gradY = new DeviceTensor(accelerator, shape.N, shape.Cout, shape.OutH, shape.OutW);
        _mean = new HostBuffer<float>(shape.Cout);
        _invStd = new HostBuffer<float>(shape.Cout);
    }

    private BatchNormShape Norm(int batch) => new(batch, _shape.Cout, _shape.OutH * _shape.OutW);

    private ChannelBiasShape Channels(int batch) => new(batch, _shape.Cout, _shape.OutH * _shape.OutW);

    private void CheckBias(ConvBatchNormReLUParameters p, string operation)
    {
        var expected = _bias is null ? 0 : _shape.Cout;
        if (p.ConvBias.Length != expected || p.ConvBiasGrad.Length != expected)
            throw new ArgumentException($"{operation}: the op was planned {(_bias is null ? "without" : "with")} a convolution bias; "
                + $"got bias views of {p.ConvBias.Length} and {p.ConvBiasGrad.Length} values, expected {expected}.");
    }

    public void Forward(int batch, bool training, ArrayView<float> input, ConvBatchNormReLUParameters p, ArrayView<float> output)
    {
        var norm = Norm(batch);
        ViewChecks.RequireLength(output, norm.Length, "HostConvBatchNormReLUOp.Forward", nameof(output));
        CheckBias(p, "HostConvBatchNormReLUOp.Forward");
        var y = _y.Slice(norm.Length);
        _conv.Forward(batch, input, p.ConvWeight, y);
        _bias?.AddBias(Channels(batch), y, p.ConvBias);
        var mean = _mean.Ptr;
        if (training)
            HostBatchNormOps<TSimd, TVector>.Statistics(norm, HostView.Ptr(y), p.Momentum, p.Eps, mean, _invStd.Ptr, HostView.Ptr(p.RunningMean),
                HostView.Ptr(p.RunningVar));
        else
        {
            mean = HostView.Ptr(p.RunningMean);
            HostBatchNormOps<TSimd, TVector>.InvStdFromVariance(norm.C, HostView.Ptr(p.RunningVar), p.Eps, _invStd.Ptr);
        }
        HostBatchNormOps<TSimd, TVector>.Normalize(norm, HostView.Ptr(y), mean, _invStd.Ptr, HostView.Ptr(p.Gamma), HostView.Ptr(p.Beta),
            HostView.Ptr(output), relu: true);
    }

    public void Backward(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ConvBatchNormReLUParameters p, ArrayView<float> gradInput)
    {
        var norm = Norm(batch);
        ViewChecks.RequireLength(gradOutput, norm.Length, "HostConvBatchNormReLUOp.Backward", nameof(gradOutput));
        CheckBias(p, "HostConvBatchNormReLUOp.Backward");
        var y = HostView.Ptr(_y.Slice(norm.Length));
        var gradY = _gradY.Slice(norm.Length);
        var gamma = HostView.Ptr(p.Gamma);
        var beta = HostView.Ptr(p.Beta);
        HostBatchNormOps<TSimd, TVector>.ParameterGradients(norm, y, HostView.Ptr(gradOutput), _mean.Ptr, _invStd.Ptr, gamma, beta,
            HostView.Ptr(p.GammaGrad), HostView.Ptr(p.BetaGrad));
        HostBatchNormOps<TSimd, TVector>.InputGradient(norm, y, HostView.Ptr(gradOutput), _mean.Ptr, _invStd.Ptr, gamma, beta,
            HostView.Ptr(p.GammaGrad), HostView.Ptr(p.BetaGrad), HostView.Ptr(gradY));
        _conv.BackwardWeight(batch, input, gradY, p.ConvWeightGrad);
        _bias?.BiasGradient(Channels(batch), gradY, p.ConvBiasGrad);
        if (gradInput.Length > 0) _conv.BackwardInput(batch, gradY, p.ConvWeight, gradInput);
    }

    public void Dispose()
    {
        _conv.Dispose();
        _y.Dispose();
        _gradY.Dispose();
        _mean.Dispose();
        _invStd.Dispose();
    }
}
