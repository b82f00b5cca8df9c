using EnvNet.Kernels;
using ILGPU;

namespace EnvNet.Network.Layers;

/// <summary>Checks shared by the layers, so a wrong shape or batch fails on the host with the layer named.</summary>
internal static class LayerGuards
{
    /// <summary>The per-sample input shape as (C, H, W); other ranks are a build error.</summary>
    public static (int C, int H, int W) RequireImage(string layer, int[] inputShape)
    {
        if (inputShape.Length != 3 || inputShape.Any(d => d < 1))
            throw new ArgumentException(
                $"{layer} expects a per-sample input shape (C,H,W) of positive sizes; got {ShapeUtil.Format(inputShape)}.");
        return (inputShape[0], inputShape[1], inputShape[2]);
    }

    /// <summary>The per-sample input shape as (C, L), a signal of C channels; other ranks are a build error.</summary>
    public static (int C, int L) RequireSignal(string layer, int[] inputShape)
    {
        if (inputShape.Length != 2 || inputShape.Any(d => d < 1))
            throw new ArgumentException(
                $"{layer} expects a per-sample input shape (C,L) of positive sizes; got {ShapeUtil.Format(inputShape)}.");
        return (inputShape[0], inputShape[1]);
    }

    /// <summary>Forward's checks: the layer is built, the batch fits its buffers, the input holds the batch.</summary>
    public static void RequireInput(Layer layer, Pass pass, ArrayView<float> input)
    {
        RequireBatch(layer, pass);
        RequireValues(layer, pass, input, layer.InputShape, "input");
    }

    /// <summary>Backward's checks: as Forward's, and the last Forward ran over the same batch (its saved state is
    /// what Backward differentiates).</summary>
    public static void RequireGradOutput(Layer layer, Pass pass, ArrayView<float> gradOutput, int forwardBatch)
    {
        RequireBatch(layer, pass);
        RequireValues(layer, pass, gradOutput, layer.OutputShape, "gradOutput");
        if (forwardBatch != pass.Batch)
            throw new InvalidOperationException(forwardBatch == 0
                ? $"{layer.GetType().Name}: Backward before any Forward."
                : $"{layer.GetType().Name}: Backward for batch {pass.Batch} after a Forward over batch {forwardBatch}.");
    }

    private static void RequireBatch(Layer layer, Pass pass)
    {
        if (layer.MaxBatch == 0)
            throw new InvalidOperationException($"{layer.GetType().Name} is used before Build.");
        if (pass.Batch < 1 || pass.Batch > layer.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(pass),
                $"{layer.GetType().Name}: batch {pass.Batch} is outside 1..{layer.MaxBatch} (the batch it was built for).");
    }

    private static void RequireValues(Layer layer, Pass pass, ArrayView<float> view, int[] perSample, string what)
    {
        var needed = pass.Batch * ShapeUtil.Elements(perSample);
        if (view.Length < needed)
            throw new ArgumentException(
                $"{layer.GetType().Name}: {what} has {view.Length} values, batch {pass.Batch} of {ShapeUtil.Format(perSample)} needs {needed}.");
    }

    /// <summary>A buffer that exists only after Build.</summary>
    public static T Built<T>(T? value, Layer layer) where T : class =>
        value ?? throw new InvalidOperationException($"{layer.GetType().Name} has no buffers before Build.");
}
