using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>A convolution planned for one layer (its shape at the largest batch); owns its scratch buffers.</summary>
public interface IConv2dOp : IDisposable
{
    /// <summary>output[N,Cout,OutH,OutW] = conv(input[N,Cin,H,W], weight[Cout,Cin,KH,KW]) for the first <paramref name="batch"/> samples.</summary>
    void Forward(int batch, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> output);

    /// <summary>gradWeight = ∂L/∂weight summed over the batch; overwrites gradWeight.</summary>
    void BackwardWeight(int batch, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradWeight);

    /// <summary>gradInput = ∂L/∂input; overwrites gradInput.</summary>
    void BackwardInput(int batch, ArrayView<float> gradOutput, ArrayView<float> weight, ArrayView<float> gradInput);
}

/// <summary>
/// Sizes of a 2-D convolution over NCHW tensors with PyTorch's layouts: input [N, Cin, H, W], weight
/// [Cout, Cin, KH, KW], output [N, Cout, OutH, OutW]; stride (SH, SW) and zero padding: PH rows above and below, PW
/// columns before and <see cref="PWRight"/> after (PW unless given: only a 1-D padding="same" with an even kernel
/// pads more on the right).
/// </summary>
public readonly struct Conv2dShape
{
    public int N { get; }
    public int Cin { get; }
    public int H { get; }
    public int W { get; }
    public int Cout { get; }
    public int KH { get; }
    public int KW { get; }
    public int SH { get; }
    public int SW { get; }
    public int PH { get; }
    public int PW { get; }
    public int PWRight { get; }

    public Conv2dShape(int n, int cin, int h, int w, int cout, int kh, int kw, int sh = 1, int sw = 1, int ph = 0, int pw = 0,
        int? pwRight = null)
    {
        var right = pwRight ?? pw;
        if (n < 0 || cin < 1 || h < 1 || w < 1 || cout < 1 || kh < 1 || kw < 1)
            throw new ArgumentException(
                $"Conv2d: sizes must be positive (batch >= 0); got N={n} Cin={cin} H={h} W={w} Cout={cout} kernel {kh}x{kw}.");
        if (sh < 1 || sw < 1) throw new ArgumentException($"Conv2d: stride must be at least 1; got ({sh},{sw}).");
        if (ph < 0 || pw < 0 || right < 0) throw new ArgumentException($"Conv2d: padding must not be negative; got ({ph},{pw},{right}).");
        if (h + 2 * ph < kh || w + pw + right < kw)
            throw new ArgumentException(
                $"Conv2d: kernel {kh}x{kw} is larger than the padded input {h + 2 * ph}x{w + pw + right}.");
        (N, Cin, H, W, Cout, KH, KW, SH, SW, PH, PW, PWRight) = (n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, right);
    }

    /// <summary>PyTorch's output size: floor((H + 2·PH − KH) / SH) + 1.</summary>
    public int OutH => (H + 2 * PH - KH) / SH + 1;
    public int OutW => (W + PW + PWRight - KW) / SW + 1;

    public long InputLength => (long)N * Cin * H * W;
    public long OutputLength => (long)N * Cout * OutH * OutW;
    public long WeightLength => (long)Cout * Cin * KH * KW;

    /// <summary>The same convolution over another batch size (a pass smaller than the buffers' batch).</summary>
    public Conv2dShape WithBatch(int n) => new(n, Cin, H, W, Cout, KH, KW, SH, SW, PH, PW, PWRight);

    public override string ToString() =>
        $"N={N} Cin={Cin} H={H} W={W} Cout={Cout} kernel={KH}x{KW} stride=({SH},{SW}) pad=({PH},{(PWRight == PW ? $"{PW}" : $"{PW}+{PWRight}")}) out={OutH}x{OutW}";
}
