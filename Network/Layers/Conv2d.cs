using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.Conv2d(in, out, (kernelH, kernelW), stride, padding, bias=False) on (C,H,W) samples; kernels from the
/// device (<see cref="KernelBackend.Conv2d"/>). State: "weight" [out, in, kernelH, kernelW].
/// </summary>
public sealed class Conv2d : Layer
{
    private readonly int _outChannels, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW;
    private IConv2dOp? _op;
    private Conv2dShape _shape;
    private Parameter? _weight;
    private DeviceTensor? _output;
    private DeviceTensor? _gradInput;
    private ArrayView<float> _input;
    private int _forwardBatch;

    public Conv2d(int outChannels, int kernelH, int kernelW, int strideH = 1, int strideW = 1, int padH = 0, int padW = 0)
    {
        if (outChannels < 1 || kernelH < 1 || kernelW < 1)
            throw new ArgumentException($"Conv2d: out channels and kernel sizes must be positive; got {outChannels}, {kernelH}x{kernelW}.");
        if (strideH < 1 || strideW < 1) throw new ArgumentException($"Conv2d: stride must be at least 1; got ({strideH},{strideW}).");
        if (padH < 0 || padW < 0) throw new ArgumentException($"Conv2d: padding must not be negative; got ({padH},{padW}).");
        (_outChannels, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW) = (outChannels, kernelH, kernelW, strideH, strideW, padH, padW);
    }

    public Parameter Weight => LayerGuards.Built(_weight, this);
    public (int H, int W) Stride => (_strideH, _strideW);
    public (int H, int W) Padding => (_padH, _padW);

    public override IEnumerable<(string Name, Parameter Parameter)> LocalParameters => [("weight", Weight)];

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        var (c, h, w) = LayerGuards.RequireImage(nameof(Conv2d), inputShape);
        _shape = new Conv2dShape(maxBatch, c, h, w, _outChannels, _kernelH, _kernelW, _strideH, _strideW, _padH, _padW);
        _op = device.Kernels.Conv2d(_shape, needsInputGradient);
        int[] weightShape = [_outChannels, c, _kernelH, _kernelW];
        _weight = new Parameter(new DeviceTensor(accelerator, weightShape), new DeviceTensor(accelerator, weightShape));
        _output = new DeviceTensor(accelerator, maxBatch, _outChannels, _shape.OutH, _shape.OutW);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, c, h, w);
        return [_outChannels, _shape.OutH, _shape.OutW];
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var shape = _shape.WithBatch(pass.Batch);
        var output = LayerGuards.Built(_output, this).Slice(shape.OutputLength);
        _op!.Forward(pass.Batch, input, Weight.Value.View, output);
        (_input, _forwardBatch) = (input, pass.Batch);
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        var shape = _shape.WithBatch(pass.Batch);
        _op!.BackwardWeight(pass.Batch, _input, gradOutput, Weight.Grad.View);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var gradInput = _gradInput.Slice(shape.InputLength);
        _op!.BackwardInput(pass.Batch, gradOutput, Weight.Value.View, gradInput);
        return gradInput;
    }

    /// <summary>PyTorch's default: kaiming_uniform_(a=√5), i.e. uniform(−b, b) with b = 1/√fan_in, fan_in =
    /// in·kernelH·kernelW, drawn in row-major order as −b + 2b·NextDouble().</summary>
    public override void ResetParameters(Random rng)
    {
        var weight = Weight.Value;
        var bound = 1.0 / Math.Sqrt(_shape.Cin * _kernelH * _kernelW);
        var values = new float[weight.Length];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(-bound + 2 * bound * rng.NextDouble());
        weight.CopyFrom(values);
    }

    public override void Dispose()
    {
        _weight?.Value.Dispose();
        _weight?.Grad.Dispose();
        _output?.Dispose();
        _gradInput?.Dispose();
        _op?.Dispose();
        base.Dispose();
    }
}
