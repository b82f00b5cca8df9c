using EnvNet.Kernels;
using ILGPU;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.nn.BatchNorm1d(C, eps, momentum) on (C,L) samples, or on (C) vectors: statistics per channel over the batch
/// and the length. A (C,L) sample is a (C,1,L) image to BatchNorm2d, which does the work (its kernels, running
/// statistics and counter); this layer only reshapes, so the state is BatchNorm2d's: "weight", "bias", "running_mean",
/// "running_var", "num_batches_tracked".
/// </summary>
public sealed class BatchNorm1d(float eps = 1e-5f, float momentum = 0.1f) : Layer, IBatchNormLayer
{
    private readonly BatchNorm2d _norm = new(eps, momentum);

    public float Eps => _norm.Eps;
    public Parameter Weight => _norm.Weight;
    public Parameter Bias => _norm.Bias;
    public DeviceTensor RunningMean => _norm.RunningMean;
    public DeviceTensor RunningVar => _norm.RunningVar;
    public long NumBatchesTracked => _norm.NumBatchesTracked;

    public override IEnumerable<(string Name, Parameter Parameter)> LocalParameters => _norm.LocalParameters;
    public override IEnumerable<StateEntry> LocalBuffers => _norm.LocalBuffers;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        if (inputShape.Length is not (1 or 2) || inputShape.Any(d => d < 1))
            throw new ArgumentException(
                $"BatchNorm1d expects a per-sample input shape (C,L) or (C) of positive sizes; got {ShapeUtil.Format(inputShape)}.");
        var length = inputShape.Length == 2 ? inputShape[1] : 1;
        _norm.Build(device, [inputShape[0], 1, length], maxBatch, needsInputGradient);
        return (int[])inputShape.Clone();
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass) => _norm.Forward(input, pass);

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass) => _norm.Backward(gradOutput, pass);

    /// <summary>PyTorch's reset_parameters (weight 1, bias 0, running mean 0, running var 1, counter 0); draws nothing.</summary>
    public override void ResetParameters(Random rng) => _norm.ResetParameters(rng);

    public override void Dispose()
    {
        _norm.Dispose();
        base.Dispose();
    }
}
