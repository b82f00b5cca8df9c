using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// The shape of C[M,N] = op(A)·op(B) on dense row-major matrices. op(A) is [M,K]: A is stored [M,K], or [K,M]
/// when transposed. op(B) is [K,N]: B is stored [K,N], or [N,K] when transposed. The flags are stored as ints
/// because ILGPU kernel arguments must be blittable, which bool is not.
/// </summary>
public readonly struct GemmShape(int m, int n, int k, bool transposeA, bool transposeB)
{
    public readonly int M = m;
    public readonly int N = n;
    public readonly int K = k;
    public readonly int TransposeA = transposeA ? 1 : 0;
    public readonly int TransposeB = transposeB ? 1 : 0;

    public override string ToString() =>
        $"C[{M},{N}] = {(TransposeA == 1 ? "Aᵀ" : "A")}·{(TransposeB == 1 ? "Bᵀ" : "B")} with K={K}";
}

/// <summary>
/// Matrix products. <see cref="Tiled"/> is the one the network runs: each group of 256 threads computes a 64×64
/// block of C, staging 64×32 slices of op(A) and op(B) in shared memory, and each thread keeps a 4×4 block of C in
/// registers (rows ty+16i, columns tx+16j, so a warp reads consecutive shared words and writes consecutive
/// global addresses). The slices are double-buffered: the next one is loaded while the current one is used, so
/// each 32-deep step needs one barrier instead of two. (Barriers are also what the CPU accelerator pays most for:
/// it runs the 256 threads of a group as operating-system threads.) When M·N gives too few blocks to fill the GPU (a
/// fully connected layer at batch 64 has one row of blocks: fc7's forward is one block running K = 4096 serially), the
/// K range is split: block z sums k in [z·kPerSplit, (z+1)·kPerSplit) into slice z of a scratch buffer, and
/// <see cref="ReduceSplits"/> adds the slices in increasing z (and the bias, where given), so the result is the same
/// bits on every run (no atomics). <see cref="Naive"/>, one iteration per output,
/// is the reference the tests compare it with. Both sum k in increasing order, so on a backend without fused
/// multiply-add they agree bit for bit.
/// </summary>
public static class GemmKernels
{
    public const int TileM = 64;
    public const int TileN = 64;
    public const int TileK = 32;
    public const int GroupSize = 256;

    /// <summary>Threads along N (and along M) in a group; each covers 4 rows and 4 columns of the block.</summary>
    private const int ThreadsPerSide = 16;

    /// <summary>Shared rows are padded by one word so that the k-contiguous loads, which store down a column
    /// of the tile, hit different banks instead of one.</summary>
    private const int TileStride = TileM + 1;

    private const int TileSize = TileK * TileStride;

    /// <summary>Bytes of the tiled kernel's static shared memory: A and B, double-buffered.</summary>
    public const int SharedBytes = 2 * 2 * TileSize * sizeof(float);

    /// <summary>Explicitly grouped: group (256), grid (⌈N/64⌉, ⌈M/64⌉, splits). Block z sums k in [z·kPerSplit,
    /// min(K, (z+1)·kPerSplit)) and writes C at c[z·M·N ..]. Shared memory: 2 × 2 × 32 × 65 floats (33 KB).</summary>
    public static void Tiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape shape, int kPerSplit)
    {
        var tileA = SharedMemory.Allocate<float>(2 * TileSize);
        var tileB = SharedMemory.Allocate<float>(2 * TileSize);

        var thread = Group.IdxX;
        var tx = thread % ThreadsPerSide;
        var ty = thread / ThreadsPerSide;
        var rowBase = Grid.IdxY * TileM;
        var colBase = Grid.IdxX * TileN;
        // op(A)[m,k] lies at m*K+k (k contiguous) or, transposed, at k*M+m; op(B)[k,n] at n*K+k when transposed.
        var aKContiguous = shape.TransposeA == 0;
        var bKContiguous = shape.TransposeB == 1;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        float c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        float c30 = 0, c31 = 0, c32 = 0, c33 = 0;

        var kBegin = Grid.IdxZ * kPerSplit;
        var kEnd = Math.Min(shape.K, kBegin + kPerSplit);
        var steps = (kEnd - kBegin + TileK - 1) / TileK;
        LoadTile(a, tileA, 0, shape.M, shape.K, kEnd, aKContiguous, rowBase, kBegin, thread);
        LoadTile(b, tileB, 0, shape.N, shape.K, kEnd, bKContiguous, colBase, kBegin, thread);
        Group.Barrier();

        for (var step = 0; step < steps; step++)
        {
            var current = (step & 1) * TileSize;
            // The other buffer was last read in the previous step, which ended with a barrier.
            if (step + 1 < steps)
            {
                var k0 = kBegin + (step + 1) * TileK;
                LoadTile(a, tileA, TileSize - current, shape.M, shape.K, kEnd, aKContiguous, rowBase, k0, thread);
                LoadTile(b, tileB, TileSize - current, shape.N, shape.K, kEnd, bKContiguous, colBase, k0, thread);
            }

            for (var kk = 0; kk < TileK; kk++)
            {
                var offset = current + kk * TileStride;
                var a0 = tileA[offset + ty];
                var a1 = tileA[offset + ty + 16];
                var a2 = tileA[offset + ty + 32];
                var a3 = tileA[offset + ty + 48];
                var b0 = tileB[offset + tx];
                var b1 = tileB[offset + tx + 16];
                var b2 = tileB[offset + tx + 32];
                var b3 = tileB[offset + tx + 48];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        var col = colBase + tx;
        var slice = c.SubView(Grid.IdxZ * shape.M * shape.N, shape.M * shape.N);
        StoreRow(slice, shape, rowBase + ty, col, c00, c01, c02, c03);
        StoreRow(slice, shape, rowBase + ty + 16, col, c10, c11, c12, c13);
        StoreRow(slice, shape, rowBase + ty + 32, col, c20, c21, c22, c23);
        StoreRow(slice, shape, rowBase + ty + 48, col, c30, c31, c32, c33);
    }

    /// <summary>c[i] = Σ_z partial[z·length + i] (+ bias[i mod features] where bias is not empty), z in increasing order;
    /// one iteration per element of C. With one slice and partial = c it adds the bias in place.</summary>
    public static void ReduceSplits(Index1D thread, ElementGrid grid, ArrayView<float> partial, int splits, int length, ArrayView<float> bias,
        int features, ArrayView<float> c)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var sum = 0f;
            for (var z = 0; z < splits; z++) sum += partial[z * length + i];
            if (bias.Length > 0) sum += bias[i % features];
            c[i] = sum;
        }
    }

    /// <summary>
    /// Stages tile[buffer + kk·stride + r] = op(X)[rowBase+r, k0+kk] for a 64-row, 32-deep slice, zero outside the matrix
    /// and from kEnd on (the end of the block's K split).
    /// Consecutive threads read consecutive global addresses: along k when X stores k contiguously, else along r.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadTile(ArrayView<float> source, ArrayView<float> tile, int buffer, int rows, int depth, int kEnd,
        bool kContiguous, int rowBase, int k0, int thread)
    {
        for (var i = 0; i < TileK * TileM / GroupSize; i++)
        {
            var e = thread + i * GroupSize;
            var kk = kContiguous ? e % TileK : e / TileM;
            var r = kContiguous ? e / TileK : e % TileM;
            var row = rowBase + r;
            var k = k0 + kk;
            var value = 0f;
            if (row < rows && k < kEnd)
                value = source[kContiguous ? row * depth + k : k * rows + row];
            tile[buffer + kk * TileStride + r] = value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(ArrayView<float> c, GemmShape shape, int row, int col,
        float v0, float v1, float v2, float v3)
    {
        if (row >= shape.M) return;
        var offset = row * shape.N;
        if (col < shape.N) c[offset + col] = v0;
        if (col + 16 < shape.N) c[offset + col + 16] = v1;
        if (col + 32 < shape.N) c[offset + col + 32] = v2;
        if (col + 48 < shape.N) c[offset + col + 48] = v3;
    }

    /// <summary>One iteration per output c[row·N + col], consecutive iterations along a row.</summary>
    public static void Naive(Index1D thread, ElementGrid grid, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape shape)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var row = i / shape.N;
            var col = i % shape.N;
            var sum = 0f;
            for (var k = 0; k < shape.K; k++)
            {
                var av = shape.TransposeA == 0 ? a[row * shape.K + k] : a[k * shape.M + row];
                var bv = shape.TransposeB == 0 ? b[k * shape.N + col] : b[col * shape.K + k];
                sum += av * bv;
            }
            c[i] = sum;
        }
    }
}

/// <summary>
/// How a tiled product splits its K range: <see cref="Splits"/> blocks of <see cref="KPerSplit"/> (a multiple of
/// <see cref="GemmKernels.TileK"/>) per 64×64 block of C. One split writes C directly; more write slices of a scratch
/// buffer of <see cref="ScratchLength"/> floats that a reduction adds in a fixed order.
/// </summary>
public readonly record struct GemmSplit(int Splits, int KPerSplit)
{
    /// <summary>Scratch floats for <paramref name="shape"/>: Splits·M·N, none when there is one split.</summary>
    public long ScratchLength(GemmShape shape) => Splits > 1 ? (long)Splits * shape.M * shape.N : 0;

    public static GemmSplit None(GemmShape shape) => new(1, shape.K);
}

/// <summary>The matrix-product kernels loaded once for an accelerator.</summary>
public sealed class GemmOps
{
    /// <summary>Fewest K values one split sums (two 32-deep steps), so a split's loads and stores stay small against its work.</summary>
    public const int MinSplitDepth = 2 * GemmKernels.TileK;

    private static readonly ConditionalWeakTable<Accelerator, GemmOps> Loaded = new();

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape, int> _tiled;
    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _naive;
    private readonly Action<Index1D, ElementGrid, ArrayView<float>, int, int, ArrayView<float>, int, ArrayView<float>> _reduce;
    private readonly Accelerator _accelerator;

    private GemmOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _tiled = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape, int>(
            GemmKernels.Tiled);
        _naive = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(
            GemmKernels.Naive);
        _reduce = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, int, int, ArrayView<float>, int, ArrayView<float>>(
            GemmKernels.ReduceSplits);
    }

    /// <summary>The kernels for <paramref name="accelerator"/>, compiled on first use.</summary>
    public static GemmOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new GemmOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.Explicit(nameof(GemmOps), GemmKernels.Tiled),
        KernelEntryPoint.AutoGrouped(nameof(GemmOps), GemmKernels.Naive),
        KernelEntryPoint.AutoGrouped(nameof(GemmOps), GemmKernels.ReduceSplits),
    ];

    /// <summary>
    /// The K split for <paramref name="shape"/> (plan it for the largest M a caller will pass; a smaller M then needs
    /// less scratch): enough splits that the blocks reach <paramref name="targetBlocks"/> (default four per
    /// multiprocessor, so every multiprocessor has several blocks in flight), none below <see cref="MinSplitDepth"/> deep.
    /// </summary>
    public GemmSplit PlanSplit(GemmShape shape, int? targetBlocks = null) =>
        PlanSplit(shape, _accelerator.NumMultiprocessors, targetBlocks);

    /// <summary>The K split for <paramref name="shape"/> on a device with <paramref name="multiprocessors"/>
    /// multiprocessors, without an accelerator (see the instance method).</summary>
    public static GemmSplit PlanSplit(GemmShape shape, int multiprocessors, int? targetBlocks)
    {
        var target = targetBlocks ?? 4 * Math.Max(1, multiprocessors);
        var blocks = (long)((shape.N + GemmKernels.TileN - 1) / GemmKernels.TileN) * ((shape.M + GemmKernels.TileM - 1) / GemmKernels.TileM);
        var splits = (int)Math.Min((target + blocks - 1) / blocks, (shape.K + MinSplitDepth - 1) / MinSplitDepth);
        if (splits <= 1) return GemmSplit.None(shape);
        var kPerSplit = ((shape.K + splits - 1) / splits + GemmKernels.TileK - 1) / GemmKernels.TileK * GemmKernels.TileK;
        return new GemmSplit((shape.K + kPerSplit - 1) / kPerSplit, kPerSplit);
    }

    /// <summary>C = op(A)·op(B), overwriting C, with the tiled kernel.</summary>
    public void Multiply(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape shape) =>
        Multiply(a, b, c, shape, GemmSplit.None(shape), ArrayView<float>.Empty, ArrayView<float>.Empty);

    /// <summary>C = op(A)·op(B) (+ bias on every row where <paramref name="bias"/> is not empty, N floats), overwriting C,
    /// with the tiled kernel split along K as <paramref name="split"/> says; <paramref name="scratch"/> holds at least
    /// <see cref="GemmSplit.ScratchLength"/> floats.</summary>
    public void Multiply(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape shape, GemmSplit split,
        ArrayView<float> scratch, ArrayView<float> bias)
    {
        Validate(a, b, c, shape);
        var covers = split.Splits == 1 || split.Splits > 1 && split.KPerSplit % GemmKernels.TileK == 0
            && (long)split.Splits * split.KPerSplit >= shape.K && (long)(split.Splits - 1) * split.KPerSplit < shape.K;
        if (!covers)
            throw new ArgumentException($"GEMM split {split} does not cover K={shape.K} in whole 32-deep steps, each split non-empty ({shape}).");
        if (split.ScratchLength(shape) > int.MaxValue)
            throw new ArgumentException($"GEMM scratch of {split.ScratchLength(shape)} floats exceeds 2^31-1 ({shape}, {split}).");
        if (scratch.Length < split.ScratchLength(shape))
            throw new ArgumentException($"GEMM scratch holds {scratch.Length} floats, {split.ScratchLength(shape)} needed for {split} ({shape}).");
        if (bias.Length > 0 && bias.Length < shape.N)
            throw new ArgumentException($"GEMM bias holds {bias.Length} floats, {shape.N} needed ({shape}).");
        var config = new KernelConfig(Grid(shape, split), new Index3D(GemmKernels.GroupSize, 1, 1));
        var length = shape.M * shape.N;
        var elements = ElementGrid.For(_accelerator, length);
        if (split.Splits == 1)
        {
            _tiled(config, a, b, c, shape, shape.K);
            if (bias.Length > 0) _reduce(elements.Threads, elements, c, 1, length, bias, shape.N, c);
            return;
        }
        _tiled(config, a, b, scratch, shape, split.KPerSplit);
        _reduce(elements.Threads, elements, scratch, split.Splits, length, bias, shape.N, c);
    }

    /// <summary>The grid of the tiled kernel (groups of <see cref="GemmKernels.GroupSize"/>): a 64×64 block of C per
    /// group in x and y, one K split per z.</summary>
    public static Index3D Grid(GemmShape shape, GemmSplit split) => new(
        (shape.N + GemmKernels.TileN - 1) / GemmKernels.TileN,
        (shape.M + GemmKernels.TileM - 1) / GemmKernels.TileM,
        split.Splits);

    /// <summary>C = op(A)·op(B) with one iteration per output: the reference for <see cref="Multiply"/>.</summary>
    public void MultiplyNaive(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape shape)
    {
        Validate(a, b, c, shape);
        var grid = ElementGrid.For(_accelerator, (long)shape.M * shape.N);
        _naive(grid.Threads, grid, a, b, c, shape);
    }

    private static void Validate(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape shape)
    {
        if (shape.M <= 0 || shape.N <= 0 || shape.K <= 0)
            throw new ArgumentOutOfRangeException(nameof(shape), $"GEMM sizes must be positive: {shape}.");
        // Kernels index with int: every matrix must have fewer than 2^31 elements.
        CheckLength(a, (long)shape.M * shape.K, "A", shape);
        CheckLength(b, (long)shape.K * shape.N, "B", shape);
        CheckLength(c, (long)shape.M * shape.N, "C", shape);
    }

    private static void CheckLength(ArrayView<float> view, long needed, string name, GemmShape shape)
    {
        if (needed > int.MaxValue)
            throw new ArgumentException($"GEMM matrix {name} of {needed} elements exceeds 2^31-1 ({shape}).");
        if (view.Length < needed)
            throw new ArgumentException($"GEMM matrix {name} holds {view.Length} elements, {needed} needed ({shape}).");
    }
}
