using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.BatchNorm2d(C, eps, momentum) with affine parameters and running statistics, on (C,H,W) samples;
/// kernels in <see cref="BatchNormKernels"/>. State: "weight", "bias" [C]; buffers "running_mean", "running_var" [C]
/// and "num_batches_tracked" (incremented by every training forward). Backward is defined for training passes.
/// </summary>
public sealed class BatchNorm2d : Layer, IBatchNormLayer
{
    private readonly float _eps;
    private readonly float _momentum;
    private IBatchNormOps? _ops;
    private BatchNormShape _shape;
    private Parameter? _weight, _bias;
    private DeviceTensor? _runningMean, _runningVar;
    private DeviceTensor? _savedMean, _savedInvStd, _scratch;
    private DeviceTensor? _output, _gradInput;
    private ArrayView<float> _input;
    private int _forwardBatch;
    private bool _lastForwardTrained;
    private long _batchesTracked;

    public BatchNorm2d(float eps = 1e-5f, float momentum = 0.1f)
    {
        if (!(eps > 0)) throw new ArgumentException($"BatchNorm2d: eps must be positive; got {eps}.");
        if (!(momentum is >= 0 and <= 1)) throw new ArgumentException($"BatchNorm2d: momentum must be in [0, 1]; got {momentum}.");
        (_eps, _momentum) = (eps, momentum);
    }

    public float Eps => _eps;
    public Parameter Weight => LayerGuards.Built(_weight, this);
    public Parameter Bias => LayerGuards.Built(_bias, this);
    public DeviceTensor RunningMean => LayerGuards.Built(_runningMean, this);
    public DeviceTensor RunningVar => LayerGuards.Built(_runningVar, this);
    public long NumBatchesTracked => _batchesTracked;

    public override IEnumerable<(string Name, Parameter Parameter)> LocalParameters => [("weight", Weight), ("bias", Bias)];

    public override IEnumerable<StateEntry> LocalBuffers =>
    [
        new TensorState("running_mean", RunningMean),
        new TensorState("running_var", RunningVar),
        new CounterState("num_batches_tracked", () => _batchesTracked, value => _batchesTracked = value),
    ];

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var accelerator = device.Accelerator;
        var (c, h, w) = LayerGuards.RequireImage(nameof(BatchNorm2d), inputShape);
        _shape = new BatchNormShape(maxBatch, c, h * w);
        _ops = device.Kernels.BatchNorm;
        _weight = new Parameter(new DeviceTensor(accelerator, c), new DeviceTensor(accelerator, c));
        _bias = new Parameter(new DeviceTensor(accelerator, c), new DeviceTensor(accelerator, c));
        _runningMean = new DeviceTensor(accelerator, c);
        _runningVar = new DeviceTensor(accelerator, c);
        _savedMean = new DeviceTensor(accelerator, c);
        _savedInvStd = new DeviceTensor(accelerator, c);
        _scratch = new DeviceTensor(accelerator, BatchNormShape.ScratchLength(c));
        _output = new DeviceTensor(accelerator, maxBatch, c, h, w);
        if (needsInputGradient) _gradInput = new DeviceTensor(accelerator, maxBatch, c, h, w);
        ResetState();
        return [c, h, w];
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        var shape = _shape.WithBatch(pass.Batch);
        var output = LayerGuards.Built(_output, this).Slice(shape.Length);
        if (pass.Training)
        {
            _ops!.Statistics(shape, input, _momentum, _eps, _savedMean!.View, _savedInvStd!.View,
                RunningMean.View, RunningVar.View, _scratch!.View);
            _ops.Normalize(shape, input, _savedMean.View, _savedInvStd.View, Weight.Value.View, Bias.Value.View, output);
            _batchesTracked++;
        }
        else
        {
            _ops!.InvStdFromVariance(shape.C, RunningVar.View, _eps, _savedInvStd!.View);
            _ops.Normalize(shape, input, RunningMean.View, _savedInvStd.View, Weight.Value.View, Bias.Value.View, output);
        }
        (_input, _forwardBatch, _lastForwardTrained) = (input, pass.Batch, pass.Training);
        return output;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        if (!pass.Training || !_lastForwardTrained)
            throw new InvalidOperationException("BatchNorm2d: Backward needs a training-mode Forward and a training pass.");
        var shape = _shape.WithBatch(pass.Batch);
        _ops!.ParameterGradients(shape, _input, gradOutput, _savedMean!.View, _savedInvStd!.View, _scratch!.View,
            Weight.Grad.View, Bias.Grad.View);
        if (_gradInput is null) return ArrayView<float>.Empty;
        var gradInput = _gradInput.Slice(shape.Length);
        _ops.InputGradient(shape, _input, gradOutput, _savedMean.View, _savedInvStd.View, Weight.Value.View,
            Weight.Grad.View, Bias.Grad.View, gradInput);
        return gradInput;
    }

    /// <summary>PyTorch's reset_parameters: weight 1, bias 0, running mean 0, running var 1, counter 0; draws
    /// nothing from <paramref name="rng"/>.</summary>
    public override void ResetParameters(Random rng) => ResetState();

    private void ResetState()
    {
        var channels = _shape.C;
        Weight.Value.CopyFrom(Enumerable.Repeat(1f, channels).ToArray());
        Bias.Value.View.MemSetToZero();
        RunningMean.View.MemSetToZero();
        RunningVar.CopyFrom(Enumerable.Repeat(1f, channels).ToArray());
        _batchesTracked = 0;
    }

    public override void Dispose()
    {
        foreach (var tensor in new[] { _weight?.Value, _weight?.Grad, _bias?.Value, _bias?.Grad, _runningMean, _runningVar,
                     _savedMean, _savedInvStd, _scratch, _output, _gradInput })
            tensor?.Dispose();
        base.Dispose();
    }
}
