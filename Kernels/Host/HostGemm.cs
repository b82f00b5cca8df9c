namespace EnvNet.Kernels.Host;

/// <summary>
/// C[m×n] = A·B for strided row- or column-major operands (A(i, k) = a[i·ars + k·acs], B(k, j) = b[k·brs + j·bcs]),
/// blocked the usual way round <see cref="HostTile{TSimd, TVector}.Tile"/>: A packed once into panels of MR rows; the
/// columns split into blocks of <see cref="NC"/>, and where there are few blocks (a narrow C) the row panels into
/// chunks too, so that every worker has several items (<see cref="ItemsPerWorker"/>); an item packs its block of B
/// <see cref="KC"/> deep at a time into panels of NR columns (the packed block stays in L2, an A panel slice in L1).
/// Every element of C is summed by one item in increasing k, so the result does not depend on the threads.
/// </summary>
internal static unsafe class HostGemm<TSimd, TVector> where TSimd : ISimd<TVector> where TVector : unmanaged
{
    private static int MR => HostTile<TSimd, TVector>.MR;
    private static int NR => HostTile<TSimd, TVector>.NR;

    public const int KC = 256;
    public static int NC => 4 * NR;

    /// <summary>Work items per worker a product is split into at least (where it has the row panels): with one item per
    /// column block, a C of 2 or 3 blocks would leave a worker idle for a third to a half of the time.</summary>
    private const int ItemsPerWorker = 4;

    /// <summary>Row offsets of a packed B panel: k·NR.</summary>
    private static readonly HostBuffer<int> PanelOffsets = CreatePanelOffsets();

    private static HostBuffer<int> CreatePanelOffsets()
    {
        var offsets = new HostBuffer<int>(KC);
        for (var k = 0; k < KC; k++) offsets.Ptr[k] = k * NR;
        return offsets;
    }

    /// <summary>Floats of packed A for an m×k operand.</summary>
    public static long PackedALength(int m, int k) => HostBuffer.RoundUp(m, MR) * (long)k;

    /// <summary>Floats of scratch each worker needs: a packed B block and an edge tile.</summary>
    public static int WorkerScratchLength => KC * NC + MR * NR;

    /// <summary>C = A·B, or C += A·B when <paramref name="accumulate"/>.</summary>
    public static void Multiply(int m, int n, int k, float* a, nint ars, nint acs, float* b, nint brs, nint bcs,
        float* c, nint ldc, float* packedA, float* workerScratch, bool accumulate = false)
    {
        var panels = (m + MR - 1) / MR;
        HostParallel.For(panels, (_, p) => PackA(p, m, k, a, ars, acs, packedA));
        var blocks = (n + NC - 1) / NC;
        var chunks = Math.Clamp((ItemsPerWorker * HostParallel.Workers + blocks - 1) / blocks, 1, panels);
        var panelsPerChunk = (panels + chunks - 1) / chunks;
        chunks = (panels + panelsPerChunk - 1) / panelsPerChunk;
        HostParallel.For(blocks * chunks, (worker, item) =>
        {
            var (block, chunk) = Math.DivRem(item, chunks);
            var firstPanel = chunk * panelsPerChunk;
            MultiplyBlock(block, firstPanel, Math.Min(panels, firstPanel + panelsPerChunk), m, n, k, b, brs, bcs, c, ldc, packedA,
                workerScratch + (long)worker * WorkerScratchLength, accumulate);
        });
    }

    /// <summary>Panel p of A: rows MR·p..MR·p+MR−1 (zero beyond m) at packed + p·MR·k, depth-major (MR values per k).</summary>
    private static void PackA(int p, int m, int k, float* a, nint ars, nint acs, float* packed)
    {
        var dst = packed + (long)p * MR * k;
        for (var i = 0; i < MR; i++)
        {
            var row = p * MR + i;
            if (row >= m)
            {
                for (var kk = 0; kk < k; kk++) dst[kk * MR + i] = 0f;
                continue;
            }
            var src = a + row * ars;
            for (var kk = 0; kk < k; kk++) dst[kk * MR + i] = src[kk * acs];
        }
    }

    /// <summary>C's column block <paramref name="block"/>, row panels [<paramref name="firstPanel"/>, <paramref name="endPanel"/>).</summary>
    private static void MultiplyBlock(int block, int firstPanel, int endPanel, int m, int n, int k, float* b, nint brs, nint bcs,
        float* c, nint ldc, float* packedA, float* scratch, bool accumulate)
    {
        var j0 = block * NC;
        var nc = Math.Min(NC, n - j0);
        var columnPanels = (nc + NR - 1) / NR;
        var packedB = scratch;
        var edge = scratch + KC * NC;
        for (var k0 = 0; k0 < k; k0 += KC)
        {
            var kc = Math.Min(KC, k - k0);
            var onto = accumulate || k0 > 0;
            PackB(kc, nc, b + k0 * brs + j0 * bcs, brs, bcs, packedB);
            for (var p = firstPanel; p < endPanel; p++)
            {
                var ap = packedA + (long)p * MR * k + (long)k0 * MR;
                var rows = Math.Min(MR, m - p * MR);
                for (var q = 0; q < columnPanels; q++)
                {
                    var bp = packedB + q * kc * NR;
                    var cols = Math.Min(NR, nc - q * NR);
                    var tile = c + p * MR * ldc + j0 + q * NR;
                    if (rows == MR && cols == NR)
                    {
                        HostTile<TSimd, TVector>.Tile(kc, ap, bp, PanelOffsets.Ptr, tile, ldc, accumulate: onto);
                        continue;
                    }
                    HostTile<TSimd, TVector>.Tile(kc, ap, bp, PanelOffsets.Ptr, edge, NR, accumulate: false);
                    for (var i = 0; i < rows; i++)
                        for (var j = 0; j < cols; j++)
                            tile[i * ldc + j] = onto ? tile[i * ldc + j] + edge[i * NR + j] : edge[i * NR + j];
                }
            }
        }
    }

    /// <summary>kc×nc of B into panels of NR columns (zero beyond nc): panel q, row kk at packed + q·kc·NR + kk·NR.</summary>
    private static void PackB(int kc, int nc, float* b, nint brs, nint bcs, float* packed)
    {
        for (var q = 0; q * NR < nc; q++)
        {
            var dst = packed + q * kc * NR;
            var cols = Math.Min(NR, nc - q * NR);
            var src = b + q * NR * bcs;
            if (bcs == 1)
            {
                for (var kk = 0; kk < kc; kk++)
                {
                    new ReadOnlySpan<float>(src + kk * brs, cols).CopyTo(new Span<float>(dst + kk * NR, cols));
                    new Span<float>(dst + kk * NR + cols, NR - cols).Clear();
                }
                continue;
            }
            // Column-major B (a transposed weight): read each column along k, its contiguous direction.
            for (var j = 0; j < NR; j++)
            {
                if (j >= cols)
                {
                    for (var kk = 0; kk < kc; kk++) dst[kk * NR + j] = 0f;
                    continue;
                }
                var column = src + j * bcs;
                for (var kk = 0; kk < kc; kk++) dst[kk * NR + j] = column[kk * brs];
            }
        }
    }
}
