using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

public interface ITransposeOps
{
    /// <summary>output [N, B, A, W] = input [N, A, B, W]; the backward is this call with <see cref="TransposeShape.Swapped"/>.</summary>
    void Transpose12(TransposeShape shape, ArrayView<float> input, ArrayView<float> output);
}

/// <summary>Sizes of a swap of axes 1 and 2: input [N, A, B, W] becomes [N, B, A, W].</summary>
public readonly struct TransposeShape
{
    public int N { get; }
    public int A { get; }
    public int B { get; }
    public int W { get; }

    public TransposeShape(int n, int a, int b, int w)
    {
        if (n < 0 || a < 1 || b < 1 || w < 1)
            throw new ArgumentException($"Transpose12: sizes must be positive (batch >= 0); got N={n} A={a} B={b} W={w}.");
        (N, A, B, W) = (n, a, b, w);
    }

    public long Length => (long)N * A * B * W;

    /// <summary>The shape of the output, whose transpose is the inverse (the backward pass).</summary>
    public TransposeShape Swapped => new(N, B, A, W);

    public override string ToString() => $"N={N} A={A} B={B} W={W}";
}
