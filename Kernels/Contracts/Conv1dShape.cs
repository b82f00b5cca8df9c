namespace EnvNet.Kernels;

/// <summary>
/// Sizes of a 1-D convolution with PyTorch's layouts: input [N, Cin, L], weight [Cout, Cin, K], output [N, Cout, OutL];
/// stride S, zero padding PadLeft before and PadRight after the signal. The two paddings differ only for
/// padding="same" with an even kernel, where PyTorch puts the extra zero on the right.
/// </summary>
public readonly struct Conv1dShape
{
    public int N { get; }
    public int Cin { get; }
    public int L { get; }
    public int Cout { get; }
    public int K { get; }
    public int S { get; }
    public int PadLeft { get; }
    public int PadRight { get; }

    public Conv1dShape(int n, int cin, int l, int cout, int k, int s = 1, int padLeft = 0, int padRight = 0)
    {
        if (n < 0 || cin < 1 || l < 1 || cout < 1 || k < 1)
            throw new ArgumentException($"Conv1d: sizes must be positive (batch >= 0); got N={n} Cin={cin} L={l} Cout={cout} kernel {k}.");
        if (s < 1) throw new ArgumentException($"Conv1d: stride must be at least 1; got {s}.");
        if (padLeft < 0 || padRight < 0) throw new ArgumentException($"Conv1d: padding must not be negative; got ({padLeft},{padRight}).");
        if (l + padLeft + padRight < k)
            throw new ArgumentException($"Conv1d: kernel {k} is longer than the padded input {l + padLeft + padRight}.");
        (N, Cin, L, Cout, K, S, PadLeft, PadRight) = (n, cin, l, cout, k, s, padLeft, padRight);
    }

    /// <summary>PyTorch's padding="same" (stride 1 only): K − 1 zeros in all, ⌊(K − 1)/2⌋ of them on the left, so OutL = L.</summary>
    public static (int Left, int Right) SamePadding(int k) => ((k - 1) / 2, k - 1 - (k - 1) / 2);

    /// <summary>⌊(L + PadLeft + PadRight − K) / S⌋ + 1.</summary>
    public int OutL => (L + PadLeft + PadRight - K) / S + 1;

    public long InputLength => (long)N * Cin * L;
    public long OutputLength => (long)N * Cout * OutL;
    public long WeightLength => (long)Cout * Cin * K;

    public Conv1dShape WithBatch(int n) => new(n, Cin, L, Cout, K, S, PadLeft, PadRight);

    /// <summary>The same convolution as every kernel family runs it: a 2-D convolution over (Cin, 1, L) planes, kernel
    /// 1×K, stride (1, S), padding (0, PadLeft/PadRight); the layouts [N, Cin, L] and [Cout, Cin, K] are those bytes.</summary>
    public Conv2dShape AsConv2d() => new(N, Cin, 1, L, Cout, 1, K, 1, S, 0, PadLeft, PadRight);

    public override string ToString() => $"N={N} Cin={Cin} L={L} Cout={Cout} kernel={K} stride={S} pad=({PadLeft},{PadRight}) out={OutL}";
}
