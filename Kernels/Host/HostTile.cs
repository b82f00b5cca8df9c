using System.Runtime.CompilerServices;

namespace EnvNet.Kernels.Host;

/// <summary>
/// The register tiles every host matrix product runs on, at the width of <typeparamref name="TSimd"/> (L lanes).
/// <see cref="Tile"/>: C[MR×NR] (+)= Σ_k A[k][0..MR]ᵀ · B_k[0..NR] with NR = 3 vectors and MR = <see cref="ISimd{TVector}.TileRows"/>
/// (8 where 32 vector registers hold the 24 accumulators, 4 where 16 hold 12), per k three vector loads of B and MR
/// broadcasts of A. A is packed (MR values per k); row k of B is read at b + offsets[k], so B is either a packed panel
/// (offsets k·NR) or the rows of a convolution's input window (offsets of channel, kernel row and tap: an implicit
/// im2col, no copy).
/// <see cref="Dot"/>: DotRows×6 dot products of rows of length len into lane-wise accumulators: products whose
/// reduction runs along the contiguous direction of both operands (a convolution's weight gradient, a fully connected
/// forward).
/// </summary>
internal static unsafe class HostTile<TSimd, TVector> where TSimd : ISimd<TVector> where TVector : unmanaged
{
    public static int MR => TSimd.TileRows;
    public static int NR => 3 * TSimd.Lanes;

    /// <summary>Width of <see cref="Row"/>: 8 vectors.</summary>
    public static int RowWidth => 8 * TSimd.Lanes;

    /// <summary>Rows of <see cref="Dot"/>: 4 of 6 columns (24 accumulators) with 32 registers, else 2 (12).</summary>
    public static int DotRows => TSimd.TileRows / 2;
    public const int DotColumns = 6;

    /// <summary>C[i, j] = Σ_k a[k·MR + i] · b[offsets[k] + j] for i &lt; MR, j &lt; NR, stored at c + i·ldc + j, added to C
    /// when <paramref name="accumulate"/>. Rows 4..7 exist only where the tile has 8 rows; the JIT drops them
    /// elsewhere, as <see cref="ISimd{TVector}.TileRows"/> is a constant of the width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int kc, float* ap, float* b, int* offsets, float* c, nint ldc, bool accumulate)
    {
        var lanes = TSimd.Lanes;
        var eight = TSimd.TileRows == 8;
        TVector c00 = TSimd.Zero, c01 = TSimd.Zero, c02 = TSimd.Zero;
        TVector c10 = TSimd.Zero, c11 = TSimd.Zero, c12 = TSimd.Zero;
        TVector c20 = TSimd.Zero, c21 = TSimd.Zero, c22 = TSimd.Zero;
        TVector c30 = TSimd.Zero, c31 = TSimd.Zero, c32 = TSimd.Zero;
        TVector c40 = TSimd.Zero, c41 = TSimd.Zero, c42 = TSimd.Zero;
        TVector c50 = TSimd.Zero, c51 = TSimd.Zero, c52 = TSimd.Zero;
        TVector c60 = TSimd.Zero, c61 = TSimd.Zero, c62 = TSimd.Zero;
        TVector c70 = TSimd.Zero, c71 = TSimd.Zero, c72 = TSimd.Zero;
        for (var k = 0; k < kc; k++)
        {
            var bp = b + offsets[k];
            var b0 = TSimd.Load(bp);
            var b1 = TSimd.Load(bp + lanes);
            var b2 = TSimd.Load(bp + 2 * lanes);
            TVector a;
            a = TSimd.Broadcast(ap[0]);
            c00 = TSimd.MultiplyAdd(a, b0, c00);
            c01 = TSimd.MultiplyAdd(a, b1, c01);
            c02 = TSimd.MultiplyAdd(a, b2, c02);
            a = TSimd.Broadcast(ap[1]);
            c10 = TSimd.MultiplyAdd(a, b0, c10);
            c11 = TSimd.MultiplyAdd(a, b1, c11);
            c12 = TSimd.MultiplyAdd(a, b2, c12);
            a = TSimd.Broadcast(ap[2]);
            c20 = TSimd.MultiplyAdd(a, b0, c20);
            c21 = TSimd.MultiplyAdd(a, b1, c21);
            c22 = TSimd.MultiplyAdd(a, b2, c22);
            a = TSimd.Broadcast(ap[3]);
            c30 = TSimd.MultiplyAdd(a, b0, c30);
            c31 = TSimd.MultiplyAdd(a, b1, c31);
            c32 = TSimd.MultiplyAdd(a, b2, c32);
            if (eight)
            {
                a = TSimd.Broadcast(ap[4]);
                c40 = TSimd.MultiplyAdd(a, b0, c40);
                c41 = TSimd.MultiplyAdd(a, b1, c41);
                c42 = TSimd.MultiplyAdd(a, b2, c42);
                a = TSimd.Broadcast(ap[5]);
                c50 = TSimd.MultiplyAdd(a, b0, c50);
                c51 = TSimd.MultiplyAdd(a, b1, c51);
                c52 = TSimd.MultiplyAdd(a, b2, c52);
                a = TSimd.Broadcast(ap[6]);
                c60 = TSimd.MultiplyAdd(a, b0, c60);
                c61 = TSimd.MultiplyAdd(a, b1, c61);
                c62 = TSimd.MultiplyAdd(a, b2, c62);
                a = TSimd.Broadcast(ap[7]);
                c70 = TSimd.MultiplyAdd(a, b0, c70);
                c71 = TSimd.MultiplyAdd(a, b1, c71);
                c72 = TSimd.MultiplyAdd(a, b2, c72);
            }
            ap += TSimd.TileRows;
        }
        StoreRow(c00, c01, c02, c, lanes, accumulate);
        StoreRow(c10, c11, c12, c + ldc, lanes, accumulate);
        StoreRow(c20, c21, c22, c + 2 * ldc, lanes, accumulate);
        StoreRow(c30, c31, c32, c + 3 * ldc, lanes, accumulate);
        if (!eight) return;
        StoreRow(c40, c41, c42, c + 4 * ldc, lanes, accumulate);
        StoreRow(c50, c51, c52, c + 5 * ldc, lanes, accumulate);
        StoreRow(c60, c61, c62, c + 6 * ldc, lanes, accumulate);
        StoreRow(c70, c71, c72, c + 7 * ldc, lanes, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(TVector v0, TVector v1, TVector v2, float* c, int lanes, bool accumulate)
    {
        Store(v0, c, accumulate);
        Store(v1, c + lanes, accumulate);
        Store(v2, c + 2 * lanes, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(TVector value, float* c, bool accumulate)
    {
        if (accumulate) value = TSimd.Add(value, TSimd.Load(c));
        TSimd.Store(value, c);
    }

    /// <summary>C[j] = Σ_k a[k·aStride] · b[offsets[k] + j] for j &lt; <see cref="RowWidth"/>: one row of
    /// <see cref="Tile"/>'s product, eight accumulators, for products with fewer rows than a tile (a convolution's
    /// input gradient with one input channel), which a padded tile would run at a fraction of its rate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(int kc, float* a, nint aStride, float* b, int* offsets, float* c)
    {
        var lanes = TSimd.Lanes;
        TVector c0 = TSimd.Zero, c1 = TSimd.Zero, c2 = TSimd.Zero, c3 = TSimd.Zero;
        TVector c4 = TSimd.Zero, c5 = TSimd.Zero, c6 = TSimd.Zero, c7 = TSimd.Zero;
        for (var k = 0; k < kc; k++)
        {
            var bp = b + offsets[k];
            var w = TSimd.Broadcast(*a);
            c0 = TSimd.MultiplyAdd(w, TSimd.Load(bp), c0);
            c1 = TSimd.MultiplyAdd(w, TSimd.Load(bp + lanes), c1);
            c2 = TSimd.MultiplyAdd(w, TSimd.Load(bp + 2 * lanes), c2);
            c3 = TSimd.MultiplyAdd(w, TSimd.Load(bp + 3 * lanes), c3);
            c4 = TSimd.MultiplyAdd(w, TSimd.Load(bp + 4 * lanes), c4);
            c5 = TSimd.MultiplyAdd(w, TSimd.Load(bp + 5 * lanes), c5);
            c6 = TSimd.MultiplyAdd(w, TSimd.Load(bp + 6 * lanes), c6);
            c7 = TSimd.MultiplyAdd(w, TSimd.Load(bp + 7 * lanes), c7);
            a += aStride;
        }
        TSimd.Store(c0, c);
        TSimd.Store(c1, c + lanes);
        TSimd.Store(c2, c + 2 * lanes);
        TSimd.Store(c3, c + 3 * lanes);
        TSimd.Store(c4, c + 4 * lanes);
        TSimd.Store(c5, c + 5 * lanes);
        TSimd.Store(c6, c + 6 * lanes);
        TSimd.Store(c7, c + 7 * lanes);
    }

    /// <summary>sums[i·6 + j] += (a[i][t] · b[j][t])_{t &lt; len} lane-wise (lane l takes t ≡ l mod L) for
    /// i &lt; <see cref="DotRows"/>, j &lt; 6; len a multiple of L. The caller adds the lanes (<see cref="ISimd{TVector}.Sum"/>)
    /// once its reduction is done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot(int len, float** a, float** b, TVector* sums)
    {
        var four = DotRows == 4;
        float* a0 = a[0], a1 = a[1], a2 = four ? a[2] : null, a3 = four ? a[3] : null;
        float* b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], b4 = b[4], b5 = b[5];
        TVector s00 = sums[0], s01 = sums[1], s02 = sums[2], s03 = sums[3], s04 = sums[4], s05 = sums[5];
        TVector s10 = sums[6], s11 = sums[7], s12 = sums[8], s13 = sums[9], s14 = sums[10], s15 = sums[11];
        TVector s20 = TSimd.Zero, s21 = TSimd.Zero, s22 = TSimd.Zero, s23 = TSimd.Zero, s24 = TSimd.Zero, s25 = TSimd.Zero;
        TVector s30 = TSimd.Zero, s31 = TSimd.Zero, s32 = TSimd.Zero, s33 = TSimd.Zero, s34 = TSimd.Zero, s35 = TSimd.Zero;
        if (four)
        {
            (s20, s21, s22, s23, s24, s25) = (sums[12], sums[13], sums[14], sums[15], sums[16], sums[17]);
            (s30, s31, s32, s33, s34, s35) = (sums[18], sums[19], sums[20], sums[21], sums[22], sums[23]);
        }
        for (var t = 0; t < len; t += TSimd.Lanes)
        {
            TVector v;
            var x0 = TSimd.Load(a0 + t);
            var x1 = TSimd.Load(a1 + t);
            if (four)
            {
                var x2 = TSimd.Load(a2 + t);
                var x3 = TSimd.Load(a3 + t);
                v = TSimd.Load(b0 + t);
                s00 = TSimd.MultiplyAdd(x0, v, s00);
                s10 = TSimd.MultiplyAdd(x1, v, s10);
                s20 = TSimd.MultiplyAdd(x2, v, s20);
                s30 = TSimd.MultiplyAdd(x3, v, s30);
                v = TSimd.Load(b1 + t);
                s01 = TSimd.MultiplyAdd(x0, v, s01);
                s11 = TSimd.MultiplyAdd(x1, v, s11);
                s21 = TSimd.MultiplyAdd(x2, v, s21);
                s31 = TSimd.MultiplyAdd(x3, v, s31);
                v = TSimd.Load(b2 + t);
                s02 = TSimd.MultiplyAdd(x0, v, s02);
                s12 = TSimd.MultiplyAdd(x1, v, s12);
                s22 = TSimd.MultiplyAdd(x2, v, s22);
                s32 = TSimd.MultiplyAdd(x3, v, s32);
                v = TSimd.Load(b3 + t);
                s03 = TSimd.MultiplyAdd(x0, v, s03);
                s13 = TSimd.MultiplyAdd(x1, v, s13);
                s23 = TSimd.MultiplyAdd(x2, v, s23);
                s33 = TSimd.MultiplyAdd(x3, v, s33);
                v = TSimd.Load(b4 + t);
                s04 = TSimd.MultiplyAdd(x0, v, s04);
                s14 = TSimd.MultiplyAdd(x1, v, s14);
                s24 = TSimd.MultiplyAdd(x2, v, s24);
                s34 = TSimd.MultiplyAdd(x3, v, s34);
                v = TSimd.Load(b5 + t);
                s05 = TSimd.MultiplyAdd(x0, v, s05);
                s15 = TSimd.MultiplyAdd(x1, v, s15);
                s25 = TSimd.MultiplyAdd(x2, v, s25);
                s35 = TSimd.MultiplyAdd(x3, v, s35);
                continue;
            }
            v = TSimd.Load(b0 + t);
            s00 = TSimd.MultiplyAdd(x0, v, s00);
            s10 = TSimd.MultiplyAdd(x1, v, s10);
            v = TSimd.Load(b1 + t);
            s01 = TSimd.MultiplyAdd(x0, v, s01);
            s11 = TSimd.MultiplyAdd(x1, v, s11);
            v = TSimd.Load(b2 + t);
            s02 = TSimd.MultiplyAdd(x0, v, s02);
            s12 = TSimd.MultiplyAdd(x1, v, s12);
            v = TSimd.Load(b3 + t);
            s03 = TSimd.MultiplyAdd(x0, v, s03);
            s13 = TSimd.MultiplyAdd(x1, v, s13);
            v = TSimd.Load(b4 + t);
            s04 = TSimd.MultiplyAdd(x0, v, s04);
            s14 = TSimd.MultiplyAdd(x1, v, s14);
            v = TSimd.Load(b5 + t);
            s05 = TSimd.MultiplyAdd(x0, v, s05);
            s15 = TSimd.MultiplyAdd(x1, v, s15);
        }
        (sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]) = (s00, s01, s02, s03, s04, s05);
        (sums[6], sums[7], sums[8], sums[9], sums[10], sums[11]) = (s10, s11, s12, s13, s14, s15);
        if (!four) return;
        (sums[12], sums[13], sums[14], sums[15], sums[16], sums[17]) = (s20, s21, s22, s23, s24, s25);
        (sums[18], sums[19], sums[20], sums[21], sums[22], sums[23]) = (s30, s31, s32, s33, s34, s35);
    }
}
