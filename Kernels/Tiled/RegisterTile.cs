using System.Runtime.CompilerServices;
using EnvNet.Kernels.Plain;

namespace EnvNet.Kernels.Tiled;

/// <summary>
/// Eight float accumulators held in registers: one output channel × eight positions (or × eight taps). ILGPU lowers a
/// struct local into scalars, so a thread's 8×8 tile is eight of these with no local-memory array behind them.
/// </summary>
public struct Accumulator8
{
    public float A0, A1, A2, A3, A4, A5, A6, A7;

    /// <summary>A_j += a·x_j for the eight lanes (ptxas contracts each multiply-add into one FFMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MultiplyAdd(float a, float x0, float x1, float x2, float x3, float x4, float x5, float x6, float x7)
    {
        A0 += a * x0;
        A1 += a * x1;
        A2 += a * x2;
        A3 += a * x3;
        A4 += a * x4;
        A5 += a * x5;
        A6 += a * x6;
        A7 += a * x7;
    }

    /// <summary>
    /// A_k += Σ_s d_s·x_{s+k} for s, k in 0..7: eight steps of a sliding window over x0..x14, the product of eight
    /// gradient values with eight taps that the weight-gradient kernel forms per staged block of positions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SlidingMultiplyAdd(Float4 d0123, Float4 d4567,
        float x0, float x1, float x2, float x3, float x4, float x5, float x6, float x7,
        float x8, float x9, float x10, float x11, float x12, float x13, float x14)
    {
        MultiplyAdd(d0123.X, x0, x1, x2, x3, x4, x5, x6, x7);
        MultiplyAdd(d0123.Y, x1, x2, x3, x4, x5, x6, x7, x8);
        MultiplyAdd(d0123.Z, x2, x3, x4, x5, x6, x7, x8, x9);
        MultiplyAdd(d0123.W, x3, x4, x5, x6, x7, x8, x9, x10);
        MultiplyAdd(d4567.X, x4, x5, x6, x7, x8, x9, x10, x11);
        MultiplyAdd(d4567.Y, x5, x6, x7, x8, x9, x10, x11, x12);
        MultiplyAdd(d4567.Z, x6, x7, x8, x9, x10, x11, x12, x13);
        MultiplyAdd(d4567.W, x7, x8, x9, x10, x11, x12, x13, x14);
    }

    /// <summary>Lane j of the tile (j in 0..7), for epilogues that loop over positions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Get(int j) => j switch
    {
        0 => A0,
        1 => A1,
        2 => A2,
        3 => A3,
        4 => A4,
        5 => A5,
        6 => A6,
        _ => A7,
    };
}

/// <summary>Four floats loaded or stored together: from shared memory ILGPU emits one 16-byte access
/// (<c>ld.shared.v4.f32</c>) when the view is of this type.</summary>
public struct Float4
{
    public float X, Y, Z, W;
}
