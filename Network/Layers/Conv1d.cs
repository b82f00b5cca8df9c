using EnvNet.Kernels;
using ILGPU;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.Conv1d(in, out, kernel, stride, padding, bias) on (C,L) samples: the device's 2-D convolution over
/// (C, 1, L) planes (<see cref="KernelBackend.Conv2d"/>, planned at Build for <see cref="Conv1dShape.AsConv2d"/>), the
/// bias <see cref="KernelBackend.ChannelBias"/>. State: "weight" [out, in, kernel], and "bias" [out] unless built
/// without one. Padding is zeros on both sides, or PyTorch's padding="same" (<see cref="SamePadding"/>).
/// </summary>
public sealed class Conv1d : Layer, IConvolutionLayer
{
    private readonly int _outChannels, _kernel, _stride, _padLeft, _padRight;
    private readonly bool _hasBias;
    private IConv2dOp? _op;
    private IChannelBiasOps? _biasOps;
    private Conv1dShape _shape;
    private Parameter? _weight, _bias;
    private DeviceTensor? _output, _gradInput;
    private ArrayView<float> _input;
    private int _forwardBatch;

    /// <param name="bias">PyTorch's default is true.</param>
    public Conv1d(int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true)
        : this(outChannels, kernel, stride, padding, padding, bias)
    {
    }

    private Conv1d(int outChannels, int kernel, int stride, int padLeft, int padRight, bool bias)
    {
        if (outChannels < 1 || kernel < 1)
            throw new ArgumentException($"Conv1d: out channels and kernel size must be positive; got {outChannels}, {kernel}.");
        if (stride < 1) throw new ArgumentException($"Conv1d: stride must be at least 1; got {stride}.");
        if (padLeft < 0 || padRight < 0) throw new ArgumentException($"Conv1d: padding must not be negative; got {padLeft}.");
        (_outChannels, _kernel, _stride, _padLeft, _padRight, _hasBias) = (outChannels, kernel, stride, padLeft, padRight, bias);
    }

    /// <summary>torch.nn.Conv1d(..., padding="same"): stride 1, output as long as the input, ⌊(K−1)/2⌋ zeros on the
    /// left and the rest on the right.</summary>
    public static Conv1d SamePadding(int outChannels, int kernel, bool bias = true)
    {
        var (left, right) = Conv1dShape.SamePadding(kernel);
        return new Conv1d(outChannels, kernel, 1, left, right, bias);
    }

    public Parameter Weight => LayerGuards.Built(_weight, this);
    public int Stride => _stride;
    public (int Left, int Right) Padding => (_padLeft, _padRight);

    public bool HasBias => _hasBias;

    /// <summary>Null when the layer has no bias.</summary>
    public Parameter? Bias => _hasBias ? LayerGuards.Built(_bias, this) : null;

    public override IEnumerable<(string Name, Parameter Parameter)> LocalParameters =>
        _hasBias ? [("weight", Weight), ("bias", Bias!)] : [("weight", Weight)];

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        _shape = ShapeFor(inputShape, maxBatch);
        var (c, l) = (_shape.Cin, _shape.L);
        _op = device.Kernels.Conv2d(_shape.AsConv2d(), needsInputGradient);
        _biasOps = device.Kernels.ChannelBias;
        int[] weightShape = [_outChannels, c, _kernel];
        _weight = new Parameter(new DeviceTensor(accelerator, weightShape), new DeviceTensor(accelerator, weightShape));
        if (_hasBias) _bias = new Parameter(new DeviceTensor(accelerator, _outChannels), new DeviceTensor(accelerator, _outChannels));
        _output = new DeviceTensor(accelerator, maxBatch, _outChannels, _shape.OutL);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, c, l);
        return [_outChannels, _shape.OutL];
    }

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
        _op.BackwardInput(pass.Batch, gradOutput, Weight.Value.View, gradInput);
        return gradInput;
    }

    public Conv2dShape Plan(int[] inputShape, int maxBatch) => ShapeFor(inputShape, maxBatch).AsConv2d();

    private Conv1dShape ShapeFor(int[] inputShape, int maxBatch)
    {
        var (c, l) = LayerGuards.RequireSignal(nameof(Conv1d), inputShape);
        return new Conv1dShape(maxBatch, c, l, _outChannels, _kernel, _stride, _padLeft, _padRight);
    }

    public int[] OutputShapeOf(Conv2dShape plan) => [plan.Cout, plan.OutW];

    private ChannelBiasShape OutputChannels(int batch) => new(batch, _outChannels, _shape.OutL);

    /// <summary>PyTorch's default: weight and bias uniform(−b, b) with b = 1/√(in·kernel) (kaiming_uniform_(a=√5) for
    /// the weight), drawn as −b + 2b·NextDouble(), the weight in row-major order first, then the bias.</summary>
    public override void ResetParameters(Random rng) =>
        DefaultInitialization.Reset(rng, _shape.Cin * _kernel, Weight, Bias);

    public override void Dispose()
    {
        foreach (var tensor in new[] { _weight?.Value, _weight?.Grad, _bias?.Value, _bias?.Grad, _output, _gradInput })
            tensor?.Dispose();
        _op?.Dispose();
        base.Dispose();
    }
}
