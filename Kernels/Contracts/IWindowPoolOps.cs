using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// Sizes of PyTorch's max_pool2d / avg_pool2d over [N, C, H, W] with any kernel, stride and padding, floor or ceil
/// mode (dilation 1); a 1-D pool is H = 1 with a 1-high kernel. The output size is PyTorch's pooling_output_shape:
/// ⌊(H + 2·PH − KH + (ceil ? SH − 1 : 0)) / SH⌋ + 1, one less in ceil mode when the last window would start beyond
/// the input and its left padding. Padding is at most half the kernel, as PyTorch requires, so every window covers at
/// least one input element.
/// </summary>
public readonly struct WindowPoolShape
{
    public int N { get; }
    public int C { get; }
    public int H { get; }
    public int W { get; }
    public int KH { get; }
    public int KW { get; }
    public int SH { get; }
    public int SW { get; }
    public int PH { get; }
    public int PW { get; }
    public int OutH { get; }
    public int OutW { get; }

    // An int, not a bool: kernel arguments must be blittable.
    private readonly int _ceilMode;
    public bool CeilMode => _ceilMode != 0;

    public WindowPoolShape(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph = 0, int pw = 0, bool ceilMode = false)
    {
        if (n < 0 || c < 1 || h < 1 || w < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1)
            throw new ArgumentException(
                $"Pooling: sizes and strides must be positive (batch >= 0); got N={n} C={c} H={h} W={w} kernel {kh}x{kw} stride ({sh},{sw}).");
        if (ph < 0 || pw < 0 || 2 * ph > kh || 2 * pw > kw)
            throw new ArgumentException($"Pooling: padding ({ph},{pw}) must be between 0 and half the kernel {kh}x{kw}, as in PyTorch.");
        (N, C, H, W, KH, KW, SH, SW, PH, PW, _ceilMode) = (n, c, h, w, kh, kw, sh, sw, ph, pw, ceilMode ? 1 : 0);
        OutH = OutputSize(h, kh, sh, ph, ceilMode);
        OutW = OutputSize(w, kw, sw, pw, ceilMode);
        if (OutH < 1 || OutW < 1)
            throw new ArgumentException($"Pooling: kernel {kh}x{kw} is larger than the padded input {h + 2 * ph}x{w + 2 * pw}.");
    }

    private static int OutputSize(int size, int kernel, int stride, int pad, bool ceilMode)
    {
        var span = size + 2 * pad - kernel;
        if (span < 0) return 0;
        var output = (span + (ceilMode ? stride - 1 : 0)) / stride + 1;
        if (ceilMode && (output - 1) * stride >= size + pad) output--;
        return output;
    }

    public long InputLength => (long)N * C * H * W;
    public long OutputLength => (long)N * C * OutH * OutW;

    public WindowPoolShape WithBatch(int n) => new(n, C, H, W, KH, KW, SH, SW, PH, PW, CeilMode);

    public override string ToString() =>
        $"N={N} C={C} H={H} W={W} kernel={KH}x{KW} stride=({SH},{SW}) pad=({PH},{PW}){(CeilMode ? " ceil" : "")} out={OutH}x{OutW}";
}

public interface IWindowPoolOps
{
    /// <summary>output and argmax (index h·W + w in the input's (n, c) plane), both [N, C, OutH, OutW].</summary>
    void MaxForward(WindowPoolShape shape, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax);

    /// <summary>gradInput = gradOutput routed to each window's argmax, summed where windows overlap; overwrites gradInput.</summary>
    void MaxBackward(WindowPoolShape shape, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput);

    /// <summary>output [N, C, OutH, OutW] = window averages (count_include_pad=True).</summary>
    void AverageForward(WindowPoolShape shape, ArrayView<float> input, ArrayView<float> output);

    /// <summary>gradInput = each window's gradient spread evenly over it; overwrites gradInput.</summary>
    void AverageBackward(WindowPoolShape shape, ArrayView<float> gradOutput, ArrayView<float> gradInput);
}
