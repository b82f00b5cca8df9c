using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

public interface IPoolOps
{
    /// <summary>output and argmax (index h·W + w in the input's (n, c) plane), both [N, C, OutH, OutW].</summary>
    void MaxPoolForward(MaxPool2dShape shape, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax);

    /// <summary>gradInput = gradOutput routed to each window's argmax, zero elsewhere; overwrites gradInput.</summary>
    void MaxPoolBackward(MaxPool2dShape shape, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput);
}

/// <summary>
/// Sizes of a MaxPool2d whose stride equals its kernel (EnvNet's pools) over [N, C, H, W]: windows do not overlap,
/// output [N, C, H/KH, W/KW] rounded down as PyTorch's floor mode (trailing rows/columns are never read).
/// </summary>
public readonly struct MaxPool2dShape
{
    public int N { get; }
    public int C { get; }
    public int H { get; }
    public int W { get; }
    public int KH { get; }
    public int KW { get; }

    public MaxPool2dShape(int n, int c, int h, int w, int kh, int kw)
    {
        if (n < 0 || c < 1 || h < 1 || w < 1 || kh < 1 || kw < 1)
            throw new ArgumentException($"MaxPool2d: sizes must be positive (batch >= 0); got N={n} C={c} H={h} W={w} kernel {kh}x{kw}.");
        if (kh > h || kw > w)
            throw new ArgumentException($"MaxPool2d: kernel {kh}x{kw} is larger than the input {h}x{w}.");
        (N, C, H, W, KH, KW) = (n, c, h, w, kh, kw);
    }

    public int OutH => H / KH;
    public int OutW => W / KW;
    public long InputLength => (long)N * C * H * W;
    public long OutputLength => (long)N * C * OutH * OutW;

    public MaxPool2dShape WithBatch(int n) => new(n, C, H, W, KH, KW);

    public override string ToString() => $"N={N} C={C} H={H} W={W} kernel={KH}x{KW} out={OutH}x{OutW}";
}
