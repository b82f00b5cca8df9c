using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// A residual block, y = ReLU(body(x) + shortcut(x)) as in He et al.'s ResNet and Dai et al.'s M34-res: the body's
/// layers run in order, the shortcut is the identity or a child layer (a 1×1 convolution with BatchNorm where the
/// shape changes), and the ReLU after the sum is optional. The body's layers and the shortcut are named children of
/// this layer itself (ResNet's <c>conv1</c>, <c>bn1</c>, …, <c>downsample</c>), so the state keeps PyTorch's names.
/// Backward sends the gradient of the sum to both paths and adds their input gradients.
/// </summary>
public sealed class Residual : Layer
{
    private readonly Sequential _body;
    private readonly (string Name, Layer Layer)? _shortcut;
    private readonly bool _reluAfter;
    private IBranchOps? _ops;
    private IActivationOps? _activation;
    private DeviceTensor? _sum, _output, _gradSum, _gradInput;
    private int _forwardBatch;

    /// <param name="shortcut">Null for the identity; its output shape must equal the body's.</param>
    /// <param name="reluAfter">ReLU after the sum (ResNet's blocks); false leaves the sum as it is.</param>
    public Residual(IEnumerable<(string Name, Layer Layer)> body, (string Name, Layer Layer)? shortcut = null, bool reluAfter = true)
    {
        _body = new Sequential(body);
        if (_body.Layers.Count == 0) throw new ArgumentException("Residual needs at least one layer in its body.");
        (_shortcut, _reluAfter) = (shortcut, reluAfter);
    }

    /// <summary>The body's layers, named as children of this layer.</summary>
    public IReadOnlyList<(string Name, Layer Layer)> Body => _body.Layers;
    /// <summary>Null for the identity.</summary>
    public (string Name, Layer Layer)? Shortcut => _shortcut;
    public bool ReluAfter => _reluAfter;

    public override IEnumerable<(string Name, Layer Layer)> Children =>
        _shortcut is { } shortcut ? [.. _body.Layers, shortcut] : _body.Layers;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var bodyShape = _body.Build(device, inputShape, maxBatch, needsInputGradient);
        var shortcutShape = _shortcut?.Layer.Build(device, inputShape, maxBatch, needsInputGradient) ?? inputShape;
        if (!bodyShape.SequenceEqual(shortcutShape))
            throw new ArgumentException(
                $"Residual: the body gives {ShapeUtil.Format(bodyShape)}, the {(_shortcut is null ? "identity shortcut" : $"shortcut '{_shortcut.Value.Name}'")} " +
                $"{ShapeUtil.Format(shortcutShape)}; they must be equal to be added.");
        _ops = device.Kernels.Branch;
        _activation = device.Kernels.Activation;
        var length = checked((int)(maxBatch * ShapeUtil.Elements(bodyShape)));
        _sum = new DeviceTensor(device.Accelerator, length);
        if (_reluAfter)
        {
            _output = new DeviceTensor(device.Accelerator, length);
            _gradSum = new DeviceTensor(device.Accelerator, length);
        }
        if (needsInputGradient) _gradInput = new DeviceTensor(device.Accelerator, checked((int)(maxBatch * ShapeUtil.Elements(inputShape))));
        return bodyShape;
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var count = pass.Batch * ShapeUtil.Elements(OutputShape);
        var body = _body.Forward(input, pass);
        var shortcut = _shortcut?.Layer.Forward(input, pass) ?? input;
        var sum = LayerGuards.Built(_sum, this).Slice(count);
        _ops!.Add(count, body, shortcut, sum);
        _forwardBatch = pass.Batch;
        if (!_reluAfter) return sum;
        var output = _output!.Slice(count);
        _activation!.ReluForward(count, sum, output);
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        var count = pass.Batch * ShapeUtil.Elements(OutputShape);
        var gradSum = gradOutput.SubView(0, count);
        if (_reluAfter)
        {
            gradSum = _gradSum!.Slice(count);
            _activation!.ReluBackward(count, _output!.Slice(count), gradOutput, gradSum);
        }
        var gradBody = _body.Backward(gradSum, pass);
        var gradShortcut = _shortcut?.Layer.Backward(gradSum, pass) ?? gradSum;
        if (_gradInput is null) return ArrayView<float>.Empty;
        var inputLength = pass.Batch * ShapeUtil.Elements(InputShape);
        var gradInput = _gradInput.Slice(inputLength);
        _ops!.Add(inputLength, gradBody, gradShortcut, gradInput);
        return gradInput;
    }

    public override void Dispose()
    {
        foreach (var tensor in new[] { _sum, _output, _gradSum, _gradInput }) tensor?.Dispose();
        base.Dispose();
    }
}
