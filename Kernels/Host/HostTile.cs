using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EnvNet.Kernels.Host;

/// <summary>
/// The register tiles every host matrix product runs on (AVX-512 with FMA: 32 vector registers).
/// <see cref="Tile"/>: C[8×48] (+)= Σ_k A[k][0..8]ᵀ · B_k[0..48], 24 accumulators in registers, per k three vector loads
/// of B and eight broadcasts of A for 24 fused multiply-adds. A is packed (8 values per k); row k of B is read at
/// b + offsets[k], so B is either a packed panel (offsets k·48) or the rows of a convolution's input window (offsets
/// of channel, kernel row and tap: an implicit im2col, no copy).
/// <see cref="Dot"/>: 4×6 dot products of rows of length len into 24 lane-wise accumulators: products whose reduction
/// runs along the contiguous direction of both operands (a convolution's weight gradient, a fully connected forward).
/// </summary>
internal static unsafe class HostTile
{
    public const int MR = 8;
    public const int NR = 48;
    public const int RowWidth = 128;
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

    /// <summary>C[j] = Σ_k a[k·aStride] · b[offsets[k] + j] for j &lt; 128 (<see cref="RowWidth"/>): one row of
    /// <see cref="Tile"/>'s product, eight accumulators, for products with fewer rows than a tile (a convolution's
    /// input gradient with one input channel), which a padded 8-row tile would run at an eighth of its rate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(int kc, float* a, nint aStride, float* b, int* offsets, float* c)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (var k = 0; k < kc; k++)
        {
            var bp = b + offsets[k];
            var w = Vector512.Create(*a);
            c0 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(bp + 0), c0);
            c1 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(bp + 16), c1);
            c2 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(bp + 32), c2);
            c3 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(bp + 48), c3);
            c4 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(bp + 64), c4);
            c5 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(bp + 80), c5);
            c6 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(bp + 96), c6);
            c7 = Avx512F.FusedMultiplyAdd(w, Vector512.Load(bp + 112), c7);
            a += aStride;
        }
        c0.Store(c + 0);
        c1.Store(c + 16);
        c2.Store(c + 32);
        c3.Store(c + 48);
        c4.Store(c + 64);
        c5.Store(c + 80);
        c6.Store(c + 96);
        c7.Store(c + 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> value, float* c, bool accumulate)
    {
        if (accumulate) value += Vector512.Load(c);
        value.Store(c);
    }

    /// <summary>sums[i·6 + j] += (a[i][t] · b[j][t])_{t &lt; len} lane-wise (lane l takes t ≡ l mod 16) for i &lt; 4, j &lt; 6;
    /// len a multiple of 16. The caller adds the 16 lanes (<see cref="Vector512.Sum"/>) once its reduction is done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot(int len, float** a, float** b, Vector512<float>* sums)
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
        Vector512<float> s00 = sums[0], s01 = sums[1], s02 = sums[2], s03 = sums[3], s04 = sums[4], s05 = sums[5];
        Vector512<float> s10 = sums[6], s11 = sums[7], s12 = sums[8], s13 = sums[9], s14 = sums[10], s15 = sums[11];
        Vector512<float> s20 = sums[12], s21 = sums[13], s22 = sums[14], s23 = sums[15], s24 = sums[16], s25 = sums[17];
        Vector512<float> s30 = sums[18], s31 = sums[19], s32 = sums[20], s33 = sums[21], s34 = sums[22], s35 = sums[23];
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
        sums[0] = s00;
        sums[1] = s01;
        sums[2] = s02;
        sums[3] = s03;
        sums[4] = s04;
        sums[5] = s05;
        sums[6] = s10;
        sums[7] = s11;
        sums[8] = s12;
        sums[9] = s13;
        sums[10] = s14;
        sums[11] = s15;
        sums[12] = s20;
        sums[13] = s21;
        sums[14] = s22;
        sums[15] = s23;
        sums[16] = s24;
        sums[17] = s25;
        sums[18] = s30;
        sums[19] = s31;
        sums[20] = s32;
        sums[21] = s33;
        sums[22] = s34;
        sums[23] = s35;
    }
}
