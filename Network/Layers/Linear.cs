using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.Linear: y = x·Wᵀ + b with "weight" [out, in] and "bias" [out]. The input is a flat vector per sample
/// (put a flatten in front of image-shaped activations). Backward: dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy, all
/// with the device's kernels (<see cref="KernelBackend.Linear"/>), overwriting the gradients.
/// </summary>
public sealed class Linear(int outFeatures) : Layer
{
    private Parameter? _weight;
    private Parameter? _bias;
    private DeviceTensor? _output;
    private DeviceTensor? _gradInput;
    private ILinearOp? _op;
    private ArrayView<float> _input;

    public int OutFeatures { get; } = outFeatures > 0
        ? outFeatures
        : throw new ArgumentOutOfRangeException(nameof(outFeatures), $"Linear needs a positive output size, got {outFeatures}.");

    public int InFeatures => InputShape[0];
    public Parameter Weight => _weight ?? throw NotBuilt();
    public Parameter Bias => _bias ?? throw NotBuilt();

    public override IEnumerable<(string Name, Parameter Parameter)> LocalParameters => [("weight", Weight), ("bias", Bias)];

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        if (inputShape.Length != 1)
            throw new ArgumentException(
                $"Linear expects a flat input of (features) per sample, got {ShapeUtil.Format(inputShape)}; flatten it first.");
        var inFeatures = inputShape[0];
        _weight = new Parameter(new DeviceTensor(accelerator, OutFeatures, inFeatures), new DeviceTensor(accelerator, OutFeatures, inFeatures));
        _bias = new Parameter(new DeviceTensor(accelerator, OutFeatures), new DeviceTensor(accelerator, OutFeatures));
        _output = new DeviceTensor(accelerator, maxBatch, OutFeatures);
        _gradInput = needsInputGradient ? new DeviceTensor(accelerator, maxBatch, inFeatures) : null;
        _op = device.Kernels.Linear(maxBatch, inFeatures, OutFeatures, needsInputGradient);
        return [OutFeatures];
    }

    /// <summary>PyTorch's reset_parameters: kaiming_uniform(a=√5) gives weight ~ U(±1/√in), bias ~ U(±1/√in);
    /// the weight is drawn first, row-major, then the bias.</summary>
    public override void ResetParameters(Random rng) => DefaultInitialization.Reset(rng, InFeatures, Weight, Bias);

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        CheckBatch(pass.Batch);
        _input = input;
        var output = _output!.Slice((long)pass.Batch * OutFeatures);
        _op!.Forward(pass.Batch, input, Weight.Value.View, Bias.Value.View, output);
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        CheckBatch(pass.Batch);
        _op!.BackwardParameters(pass.Batch, _input, gradOutput, Weight.Grad.View, Bias.Grad.View);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var gradInput = _gradInput.Slice((long)pass.Batch * InFeatures);
        _op.BackwardInput(pass.Batch, gradOutput, Weight.Value.View, gradInput);
        return gradInput;
    }

    private void CheckBatch(int batch)
    {
        if (_output is null) throw NotBuilt();
        if (batch <= 0 || batch > MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), $"Linear was built for batches of 1..{MaxBatch}, got {batch}.");
    }

    private static InvalidOperationException NotBuilt() => new("Linear is used before Build.");

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
