using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>
/// Conv1d on the host as the host 2-D convolution (<see cref="HostConv2dOp{TSimd, TVector}"/>) over (Cin, 1, L) planes: the layouts
/// [N, Cin, L] and [Cout, Cin, K] are [N, Cin, 1, L] and [Cout, Cin, 1, K], so the same bytes go through the same
/// implicit-im2col product. A <see cref="HostConv2dOp{TSimd, TVector}"/> owns scratch sized for its shape and batch, and this op family
/// is shared by every layer of the device, so one is planned per shape on first use and planned again only for a
/// larger batch (none per call once a training run has seen its batch). Calls on one device are sequential, as for
/// every op, so the plans need no lock. Asymmetric padding (padding="same" with an
/// even kernel, which the models do not use) runs the plain kernels.
/// </summary>
internal sealed class HostConv1dOps<TSimd, TVector>(IConv1dOps plain) : IConv1dOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    private readonly Dictionary<(int Cin, int L, int Cout, int K, int S, int Pad), HostConv2dOp<TSimd, TVector>> _planned = [];

    public void Forward(Conv1dShape shape, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output)
    {
        if (Plan(shape) is { } op) op.Forward(shape.N, input, weight, output);
        else plain.Forward(shape, input, weight, output);
    }

    public void BackwardInput(Conv1dShape shape, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput)
    {
        if (Plan(shape) is { } op) op.BackwardInput(shape.N, gradOutput, weight, gradInput);
        else plain.BackwardInput(shape, gradOutput, weight, gradInput);
    }

    public void BackwardWeight(Conv1dShape shape, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight)
    {
        if (Plan(shape) is { } op) op.BackwardWeight(shape.N, input, gradOutput, gradWeight);
        else plain.BackwardWeight(shape, input, gradOutput, gradWeight);
    }

    /// <summary>The 2-D shape of a 1-D convolution: one row, kernel 1×K, stride (1, S), padding (0, P).</summary>
    public static Conv2dShape AsConv2d(Conv1dShape s) => new(s.N, s.Cin, 1, s.L, s.Cout, 1, s.K, 1, s.S, 0, s.PadLeft);

    private HostConv2dOp<TSimd, TVector>? Plan(Conv1dShape s)
    {
        if (s.PadLeft != s.PadRight) return null;
        var key = (s.Cin, s.L, s.Cout, s.K, s.S, s.PadLeft);
        if (_planned.TryGetValue(key, out var op) && op.Batch >= s.N) return op;
        op?.Dispose();
        return _planned[key] = new HostConv2dOp<TSimd, TVector>(AsConv2d(s));
    }
}
