using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.Conv2d(in, out, (kernelH, kernelW), stride, padding, bias) on (C,H,W) samples, without bias unless asked
/// (EnvNet's convolutions have none); kernels from the device (<see cref="KernelBackend.Conv2d"/>, the bias
/// <see cref="KernelBackend.ChannelBias"/>). State: "weight" [out, in, kernelH, kernelW], and "bias" [out] with a bias.
/// </summary>
public sealed class Conv2d : Layer, IConvolutionLayer
{
    private readonly int _outChannels, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW;
    private IConv2dOp? _op;
    private Conv2dShape _shape;
    private Parameter? _weight, _bias;
    private IChannelBiasOps? _biasOps;
    private readonly bool _hasBias;
    private DeviceTensor? _output;
    private DeviceTensor? _gradInput;
    private ArrayView<float> _input;
    private int _forwardBatch;

    /// <param name="bias">Add a learned bias per output channel (PyTorch's default is true; EnvNet's is false).</param>
    public Conv2d(int outChannels, int kernelH, int kernelW, int strideH = 1, int strideW = 1, int padH = 0, int padW = 0,
        bool bias = false)
    {
        _hasBias = bias;
        if (outChannels < 1 || kernelH < 1 || kernelW < 1)
            throw new ArgumentException($"Conv2d: out channels and kernel sizes must be positive; got {outChannels}, {kernelH}x{kernelW}.");
        if (strideH < 1 || strideW < 1) throw new ArgumentException($"Conv2d: stride must be at least 1; got ({strideH},{strideW}).");
        if (padH < 0 || padW < 0) throw new ArgumentException($"Conv2d: padding must not be negative; got ({padH},{padW}).");
        (_outChannels, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW) = (outChannels, kernelH, kernelW, strideH, strideW, padH, padW);
    }

    /// <summary>torch.nn.Conv2d(..., padding="same") for odd kernels: stride 1 and (kernel − 1)/2 zeros on each side.
    /// An even kernel would need one more zero on one side than the other, which <see cref="Conv2dShape"/> does not hold.</summary>
    public static Conv2d SamePadding(int outChannels, int kernelH, int kernelW, bool bias = false)
    {
        if (kernelH % 2 == 0 || kernelW % 2 == 0)
            throw new ArgumentException($"Conv2d: padding \"same\" is supported for odd kernels only; got {kernelH}x{kernelW}.");
        return new Conv2d(outChannels, kernelH, kernelW, padH: (kernelH - 1) / 2, padW: (kernelW - 1) / 2, bias: bias);
    }

    public Parameter Weight => LayerGuards.Built(_weight, this);
    public (int H, int W) Stride => (_strideH, _strideW);
    public (int H, int W) Padding => (_padH, _padW);

    /// <summary>The convolution's sizes for one sample, as built.</summary>
    public Conv2dShape SampleShape => MaxBatch > 0 ? _shape.WithBatch(1) : throw new InvalidOperationException("Conv2d is used before Build.");

    public bool HasBias => _hasBias;

    /// <summary>Null when the layer has no bias.</summary>
    public Parameter? Bias => _hasBias ? LayerGuards.Built(_bias, this) : null;

    public override IEnumerable<(string Name, Parameter Parameter)> LocalParameters =>
        _hasBias ? [("weight", Weight), ("bias", Bias!)] : [("weight", Weight)];

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        _shape = Plan(inputShape, maxBatch);
        var (c, h, w) = (_shape.Cin, _shape.H, _shape.W);
        _op = device.Kernels.Conv2d(_shape, needsInputGradient);
        int[] weightShape = [_outChannels, c, _kernelH, _kernelW];
        _weight = new Parameter(new DeviceTensor(accelerator, weightShape), new DeviceTensor(accelerator, weightShape));
        if (_hasBias)
        {
            _bias = new Parameter(new DeviceTensor(accelerator, _outChannels), new DeviceTensor(accelerator, _outChannels));
            _biasOps = device.Kernels.ChannelBias;
        }
        _output = new DeviceTensor(accelerator, maxBatch, _outChannels, _shape.OutH, _shape.OutW);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, c, h, w);
        return OutputShapeOf(_shape);
    }

    public Conv2dShape Plan(int[] inputShape, int maxBatch)
    {
        var (c, h, w) = LayerGuards.RequireImage(nameof(Conv2d), inputShape);
        return new Conv2dShape(maxBatch, c, h, w, _outChannels, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW);
    }

    public int[] OutputShapeOf(Conv2dShape plan) => [plan.Cout, plan.OutH, plan.OutW];

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var shape = _shape.WithBatch(pass.Batch);
        var output = LayerGuards.Built(_output, this).Slice(shape.OutputLength);
        _op!.Forward(pass.Batch, input, Weight.Value.View, output);
        if (_hasBias) _biasOps!.AddBias(OutputChannels(pass.Batch), output, Bias!.Value.View);
        (_input, _forwardBatch) = (input, pass.Batch);
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        var shape = _shape.WithBatch(pass.Batch);
        _op!.BackwardWeight(pass.Batch, _input, gradOutput, Weight.Grad.View);
        if (_hasBias) _biasOps!.BiasGradient(OutputChannels(pass.Batch), gradOutput, Bias!.Grad.View);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var gradInput = _gradInput.Slice(shape.InputLength);
        _op!.BackwardInput(pass.Batch, gradOutput, Weight.Value.View, gradInput);
        return gradInput;
    }

    private ChannelBiasShape OutputChannels(int batch) => new(batch, _outChannels, _shape.OutH * _shape.OutW);

    /// <summary>PyTorch's default: kaiming_uniform_(a=√5), i.e. uniform(−b, b) with b = 1/√fan_in, fan_in =
    /// in·kernelH·kernelW, drawn in row-major order as −b + 2b·NextDouble(); then the bias, if any, from the same bound.</summary>
    public override void ResetParameters(Random rng) =>
        DefaultInitialization.Reset(rng, _shape.Cin * _kernelH * _kernelW, Weight, Bias);

    public override void Dispose()
    {
        _weight?.Value.Dispose();
        _weight?.Grad.Dispose();
        _bias?.Value.Dispose();
        _bias?.Grad.Dispose();
        _output?.Dispose();
        _gradInput?.Dispose();
        _op?.Dispose();
        base.Dispose();
    }
}
