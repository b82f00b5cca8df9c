using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network.Layers;

/// <summary>torch.flatten(x, 1): (C,H,W) samples become (C·H·W) vectors. NCHW is already contiguous per sample,
/// so both passes hand the same values on as a view; nothing is copied or allocated.</summary>
public sealed class Flatten : Layer
{
    private int _forwardBatch;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        if (inputShape.Length == 0 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"Flatten expects a per-sample input shape of positive sizes; got {ShapeUtil.Format(inputShape)}.");
        return [checked((int)ShapeUtil.Elements(inputShape))];
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
