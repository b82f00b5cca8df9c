using EnvNet.Kernels;
using ILGPU;

namespace EnvNet.Network.Layers;

/// <summary>
/// torch.squeeze / torch.unsqueeze of one axis, as a layer: the values stay where they are, only the per-sample shape
/// changes, so both passes hand on a view and nothing is copied. Axes count from the first axis of a sample (PyTorch's
/// dim minus one for the batch): WaveMsNet's squeeze(X, dim=2) of a (C,1,L) branch output is <c>Squeeze(1)</c>.
/// </summary>
public sealed class Reshape : Layer
{
    private readonly int _axis;
    private readonly bool _insert;
    private int _forwardBatch;

    private Reshape(int axis, bool insert)
    {
        if (axis < 0) throw new ArgumentOutOfRangeException(nameof(axis), axis, "Reshape: the axis must not be negative.");
        (_axis, _insert) = (axis, insert);
    }

    /// <summary>Removes per-sample axis <paramref name="axis"/>, which must have size 1.</summary>
    public static Reshape Squeeze(int axis) => new(axis, insert: false);

    /// <summary>Inserts a per-sample axis of size 1 before <paramref name="axis"/>.</summary>
    public static Reshape Unsqueeze(int axis) => new(axis, insert: true);

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        if (inputShape.Any(d => d < 1) || (_insert ? _axis > inputShape.Length : _axis >= inputShape.Length || inputShape[_axis] != 1))
            throw new ArgumentException(_insert
                ? $"Unsqueeze({_axis}) needs a per-sample shape of at least {_axis} axes; got {ShapeUtil.Format(inputShape)}."
                : $"Squeeze({_axis}) needs axis {_axis} of size 1; got {ShapeUtil.Format(inputShape)}.");
        return _insert ? [.. inputShape[.._axis], 1, .. inputShape[_axis..]] : [.. inputShape[.._axis], .. inputShape[(_axis + 1)..]];
    }

    /// <summary>Nothing: both passes hand on views of their argument.</summary>
    public override long ActivationElements => 0;

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        LayerGuards.RequireInput(this, pass, input);
        _forwardBatch = pass.Batch;
        return input.SubView(0, pass.Batch * ShapeUtil.Elements(InputShape));
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        LayerGuards.RequireGradOutput(this, pass, gradOutput, _forwardBatch);
        return NeedsInputGradient ? gradOutput.SubView(0, pass.Batch * ShapeUtil.Elements(OutputShape)) : ArrayView<float>.Empty;
    }
}
