using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EnvNet.Kernels.Cpu;

/// <summary>
/// The register tiles every host matrix product runs on (AVX-512 with FMA: 32 vector registers).
/// <see cref="Tile"/>: C[8×48] (+)= Σ_k A[k][0..8]ᵀ · B_k[0..48], 24 accumulators in registers, per k three vector loads
/// of B and eight broadcasts of A for 24 fused multiply-adds. A is packed (8 values per k); row k of B is read at
/// b + offsets[k], so B is either a packed panel (offsets k·48) or the rows of a convolution's input window (offsets
/// of channel, kernel row and tap: an implicit im2col, no copy).
/// <see cref="Dot"/>: 4×6 dot products of rows of length len, 24 lane-wise accumulators summed across lanes at the end:
/// a convolution's weight gradient, whose reduction runs along the contiguous positions of both operands.
/// </summary>
internal static unsafe class HostTile
{
    public const int MR = 8;
    public const int NR = 48;
    public const int DotRows = 4;
    public const int DotColumns = 6;

    /// <summary>Whether the tiles can run: AVX-512F (the host backend falls back to the plain kernels without it).</summary>
    public static bool Supported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>C[i, j] = Σ_k a[k·8 + i] · b[offsets[k] + j] for i &lt; 8, j &lt; 48, stored at c + i·ldc + j, added to C
    /// when <paramref name="accumulate"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int kc, float* ap, float* b, int* offsets, float* c, nint ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default;
        Vector512<float> c60 = default, c61 = default, c62 = default;
        Vector512<float> c70 = default, c71 = default, c72 = default;
        for (var k = 0; k < kc; k++)
        {
            var bp = b + offsets[k];
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var b2 = Vector512.Load(bp + 32);
            Vector512<float> a;
            a = Vector512.Create(ap[0]);
            c00 = Avx512F.FusedMultiplyAdd(a, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(a, b1, c01);
            c02 = Avx512F.FusedMultiplyAdd(a, b2, c02);
            a = Vector512.Create(ap[1]);
            c10 = Avx512F.FusedMultiplyAdd(a, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(a, b1, c11);
            c12 = Avx512F.FusedMultiplyAdd(a, b2, c12);
            a = Vector512.Create(ap[2]);
            c20 = Avx512F.FusedMultiplyAdd(a, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(a, b1, c21);
            c22 = Avx512F.FusedMultiplyAdd(a, b2, c22);
            a = Vector512.Create(ap[3]);
            c30 = Avx512F.FusedMultiplyAdd(a, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(a, b1, c31);
            c32 = Avx512F.FusedMultiplyAdd(a, b2, c32);
            a = Vector512.Create(ap[4]);
            c40 = Avx512F.FusedMultiplyAdd(a, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(a, b1, c41);
            c42 = Avx512F.FusedMultiplyAdd(a, b2, c42);
            a = Vector512.Create(ap[5]);
            c50 = Avx512F.FusedMultiplyAdd(a, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(a, b1, c51);
            c52 = Avx512F.FusedMultiplyAdd(a, b2, c52);
            a = Vector512.Create(ap[6]);
            c60 = Avx512F.FusedMultiplyAdd(a, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(a, b1, c61);
            c62 = Avx512F.FusedMultiplyAdd(a, b2, c62);
            a = Vector512.Create(ap[7]);
            c70 = Avx512F.FusedMultiplyAdd(a, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(a, b1, c71);
            c72 = Avx512F.FusedMultiplyAdd(a, b2, c72);
            ap += MR;
        }
        Store(c00, c + 0 * ldc + 0, accumulate);
        Store(c01, c + 0 * ldc + 16, accumulate);
        Store(c02, c + 0 * ldc + 32, accumulate);
        Store(c10, c + 1 * ldc + 0, accumulate);
        Store(c11, c + 1 * ldc + 16, accumulate);
        Store(c12, c + 1 * ldc + 32, accumulate);
        Store(c20, c + 2 * ldc + 0, accumulate);
        Store(c21, c + 2 * ldc + 16, accumulate);
        Store(c22, c + 2 * ldc + 32, accumulate);
        Store(c30, c + 3 * ldc + 0, accumulate);
        Store(c31, c + 3 * ldc + 16, accumulate);
        Store(c32, c + 3 * ldc + 32, accumulate);
        Store(c40, c + 4 * ldc + 0, accumulate);
        Store(c41, c + 4 * ldc + 16, accumulate);
        Store(c42, c + 4 * ldc + 32, accumulate);
        Store(c50, c + 5 * ldc + 0, accumulate);
        Store(c51, c + 5 * ldc + 16, accumulate);
        Store(c52, c + 5 * ldc + 32, accumulate);
        Store(c60, c + 6 * ldc + 0, accumulate);
        Store(c61, c + 6 * ldc + 16, accumulate);
        Store(c62, c + 6 * ldc + 32, accumulate);
        Store(c70, c + 7 * ldc + 0, accumulate);
        Store(c71, c + 7 * ldc + 16, accumulate);
        Store(c72, c + 7 * ldc + 32, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> value, float* c, bool accumulate)
    {
        if (accumulate) value += Vector512.Load(c);
        value.Store(c);
    }

    /// <summary>out[i·6 + j] = Σ_{t &lt; len} a[i][t] · b[j][t] for i &lt; 4, j &lt; 6; len a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot(int len, float** a, float** b, float* @out)
    {
        float* a0 = a[0];
        float* a1 = a[1];
        float* a2 = a[2];
        float* a3 = a[3];
        float* b0 = b[0];
        float* b1 = b[1];
        float* b2 = b[2];
        float* b3 = b[3];
        float* b4 = b[4];
        float* b5 = b[5];
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s04 = default, s05 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default, s24 = default, s25 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default, s34 = default, s35 = default;
        for (var t = 0; t < len; t += 16)
        {
            Vector512<float> v;
            var x0 = Vector512.Load(a0 + t);
            var x1 = Vector512.Load(a1 + t);
            var x2 = Vector512.Load(a2 + t);
            var x3 = Vector512.Load(a3 + t);
            v = Vector512.Load(b0 + t);
            s00 = Avx512F.FusedMultiplyAdd(x0, v, s00);
            s10 = Avx512F.FusedMultiplyAdd(x1, v, s10);
            s20 = Avx512F.FusedMultiplyAdd(x2, v, s20);
            s30 = Avx512F.FusedMultiplyAdd(x3, v, s30);
            v = Vector512.Load(b1 + t);
            s01 = Avx512F.FusedMultiplyAdd(x0, v, s01);
            s11 = Avx512F.FusedMultiplyAdd(x1, v, s11);
            s21 = Avx512F.FusedMultiplyAdd(x2, v, s21);
            s31 = Avx512F.FusedMultiplyAdd(x3, v, s31);
            v = Vector512.Load(b2 + t);
            s02 = Avx512F.FusedMultiplyAdd(x0, v, s02);
            s12 = Avx512F.FusedMultiplyAdd(x1, v, s12);
            s22 = Avx512F.FusedMultiplyAdd(x2, v, s22);
            s32 = Avx512F.FusedMultiplyAdd(x3, v, s32);
            v = Vector512.Load(b3 + t);
            s03 = Avx512F.FusedMultiplyAdd(x0, v, s03);
            s13 = Avx512F.FusedMultiplyAdd(x1, v, s13);
            s23 = Avx512F.FusedMultiplyAdd(x2, v, s23);
            s33 = Avx512F.FusedMultiplyAdd(x3, v, s33);
            v = Vector512.Load(b4 + t);
            s04 = Avx512F.FusedMultiplyAdd(x0, v, s04);
            s14 = Avx512F.FusedMultiplyAdd(x1, v, s14);
            s24 = Avx512F.FusedMultiplyAdd(x2, v, s24);
            s34 = Avx512F.FusedMultiplyAdd(x3, v, s34);
            v = Vector512.Load(b5 + t);
            s05 = Avx512F.FusedMultiplyAdd(x0, v, s05);
            s15 = Avx512F.FusedMultiplyAdd(x1, v, s15);
            s25 = Avx512F.FusedMultiplyAdd(x2, v, s25);
            s35 = Avx512F.FusedMultiplyAdd(x3, v, s35);
        }
        @out[0] = Vector512.Sum(s00);
        @out[1] = Vector512.Sum(s01);
        @out[2] = Vector512.Sum(s02);
        @out[3] = Vector512.Sum(s03);
        @out[4] = Vector512.Sum(s04);
        @out[5] = Vector512.Sum(s05);
        @out[6] = Vector512.Sum(s10);
        @out[7] = Vector512.Sum(s11);
        @out[8] = Vector512.Sum(s12);
        @out[9] = Vector512.Sum(s13);
        @out[10] = Vector512.Sum(s14);
        @out[11] = Vector512.Sum(s15);
        @out[12] = Vector512.Sum(s20);
        @out[13] = Vector512.Sum(s21);
        @out[14] = Vector512.Sum(s22);
        @out[15] = Vector512.Sum(s23);
        @out[16] = Vector512.Sum(s24);
        @out[17] = Vector512.Sum(s25);
        @out[18] = Vector512.Sum(s30);
        @out[19] = Vector512.Sum(s31);
        @out[20] = Vector512.Sum(s32);
        @out[21] = Vector512.Sum(s33);
        @out[22] = Vector512.Sum(s34);
        @out[23] = Vector512.Sum(s35);
    }
}
