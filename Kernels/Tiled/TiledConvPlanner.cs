using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Tiled;

/// <summary>One explicitly grouped launch of a tiled kernel: grid and group in threads, and the shared memory a group
/// asks for (dynamic: requested at launch; static: declared in the kernel).</summary>
public readonly record struct TiledLaunch(string Step, string Kernel, Index3D Grid, Index3D Group, int DynamicSharedBytes, int StaticSharedBytes)
{
    public int GroupSize => Group.X * Group.Y * Group.Z;
    public int SharedBytes => DynamicSharedBytes + StaticSharedBytes;

    public KernelConfig Config => new(Grid, Group, DynamicSharedBytes > 0
        ? SharedMemoryConfig.RequestDynamic<float>(DynamicSharedBytes / sizeof(float))
        : SharedMemoryConfig.Empty);

    public override string ToString() =>
        $"{Kernel} grid ({Grid.X}, {Grid.Y}, {Grid.Z}) group ({Group.X}, {Group.Y}, {Group.Z}) shared {SharedBytes} B";
}

/// <summary>
/// The launch shapes of one convolution for the tiled kernels, planned once for the largest batch: the forward
/// correlation, one correlation per input-gradient phase, the weight-gradient split, and the scratch each needs.
/// </summary>
public sealed class TiledConvPlan
{
    public Conv2dShape Conv { get; }
    public CorrelationShape Forward { get; }
    /// <summary>(phase, shape, offset of its rearranged weights); phases with no column to write are left out.</summary>
    public IReadOnlyList<(int Phase, CorrelationShape Shape, int WeightOffset)> InputGradient { get; }
    public WeightGradientShape WeightGradient { get; }

    /// <summary>Floats of the per-(channel, tile) statistics the forward writes for the batch the plan was made for.</summary>
    public long StatisticsLength => 3L * Conv.Cout * Conv.N * Forward.Tiles;
    public long PartialLength => (long)Conv.N * WeightGradient.Chunks * WeightGradient.Lanes * WeightGradient.WeightLength;

    internal TiledConvPlan(Conv2dShape conv, CorrelationShape forward,
        IReadOnlyList<(int, CorrelationShape, int)> inputGradient, WeightGradientShape weightGradient)
    {
        (Conv, Forward, InputGradient, WeightGradient) = (conv, forward, inputGradient, weightGradient);
    }

    public long StatisticsLengthFor(int batch) => 3L * Conv.Cout * batch * Forward.Tiles;

    /// <summary>The launch of one correlation (the forward or an input-gradient phase) for <paramref name="batch"/> samples.</summary>
    public static TiledLaunch Correlation(string step, CorrelationShape s, int batch) =>
        new(step, nameof(TiledConvKernels.Correlate), new Index3D(s.Tiles, batch, s.ChannelTiles), new Index3D(s.Threads, 1, 1),
            s.SharedLength * sizeof(float), 0);

    /// <summary>The weight gradient's partial sums for <paramref name="batch"/> samples.</summary>
    public TiledLaunch WeightGradientPartial(int batch)
    {
        var s = WeightGradient;
        return new("weight gradient", nameof(TiledConvKernels.WeightGradientPartial), new Index3D(s.Chunks, batch, s.OutputTiles),
            new Index3D(s.Threads, 1, 1), s.SharedLength * sizeof(float), 0);
    }

    /// <summary>The fixed-order sum of the partial weight gradients of <paramref name="batch"/> samples.</summary>
    public TiledLaunch ReducePartials(int batch)
    {
        var groups = (WeightGradient.WeightLength + TiledConvKernels.ReduceColumns - 1) / TiledConvKernels.ReduceColumns;
        return new("weight gradient sum", nameof(TiledConvKernels.ReducePartials), new Index3D(groups, 1, 1),
            new Index3D(TiledConvKernels.ReduceColumns, TiledConvKernels.ReduceRowsFor(ReduceSlices(batch)), 1), 0,
            TiledConvKernels.ReduceSharedFloats * sizeof(float));
    }

    /// <summary>Partial sums the reduction adds per weight for <paramref name="batch"/> samples.</summary>
    public int ReduceSlices(int batch) => batch * WeightGradient.Chunks * WeightGradient.Lanes;

    /// <summary>Every explicitly grouped launch of a training step over <paramref name="batch"/> samples, in order: the
    /// forward, the weight gradient and its sum, then one correlation per input-gradient phase (the input gradient's
    /// weight rearrangement is auto-grouped, one thread per weight).</summary>
    public IReadOnlyList<TiledLaunch> Launches(int batch) =>
    [
        Correlation("forward", Forward, batch),
        WeightGradientPartial(batch),
        ReducePartials(batch),
        .. InputGradient.Select(p => Correlation($"input gradient, phase {p.Phase}", p.Shape, batch)),
    ];
}


/// <summary>
/// The launch shapes of the tiled convolution kernels (<see cref="TiledConvKernels"/>) as plain arithmetic on the
/// convolution and two figures of the device: its shared memory per group and its multiprocessors. No accelerator is
/// needed, so the plan a GPU would get can be made, shown (<c>envnet shapes --plan cuda</c>) and checked against
/// CUDA's limits without one.
/// </summary>
public static class TiledConvPlanner
{
    /// <summary>Shared memory a group may ask for: CUDA's limit without an opt-in attribute (48 KiB), less 1 KiB headroom.</summary>
    public const int SharedBudgetFloats = 47 * 1024 / sizeof(float);

    /// <summary>Largest group of the weight-gradient kernel.</summary>
    public const int MaxWeightThreads = 256;

    /// <summary>
    /// The launch shapes for <paramref name="conv"/> on a device with <paramref name="sharedBytesPerGroup"/> bytes of
    /// shared memory per group and <paramref name="multiprocessors"/> multiprocessors, or null where the tiled kernels
    /// do not apply: a vertical stride, a horizontal stride over more than one row, or tiles that would not fit in shared
    /// memory, or a wider right padding than left. <paramref name="targetBlocks"/> sets how finely the weight gradient splits the batch (default: 8 groups
    /// per multiprocessor); the multiprocessors change nothing else.
    /// </summary>
    public static TiledConvPlan? Plan(Conv2dShape conv, long sharedBytesPerGroup, int multiprocessors, int? targetBlocks = null)
    {
        if (conv.SH != 1 || (conv.SW != 1 && !(conv.H == 1 && conv.KH == 1 && conv.PH == 0)) || conv.N < 1) return null;
        // The tiled kernels pad both sides alike; the rare wider right padding runs the plain kernels.
        if (conv.PWRight != conv.PW) return null;
        var budget = (int)Math.Min(SharedBudgetFloats, sharedBytesPerGroup / sizeof(float));

        var forward = PlanCorrelation(conv.Cin, conv.Cout, conv.KH, conv.KW, conv.SW, conv.H, conv.W, conv.PH, conv.PW,
            conv.OutH, conv.OutW, conv.OutW, 1, 0, budget);
        if (forward is null) return null;

        var phases = new List<(int, CorrelationShape, int)>();
        var weightOffset = 0;
        for (var phase = 0; phase < conv.SW; phase++)
        {
            var taps = TiledConvKernels.PhaseTaps(conv, phase);
            var columns = (conv.W - phase + conv.SW - 1) / conv.SW;
            var kw0 = (phase + conv.PW) % conv.SW;
            var offset = (phase + conv.PW - kw0) / conv.SW;
            if (columns > 0)
            {
                var shape = PlanCorrelation(conv.Cout, conv.Cin, conv.KH, taps, 1, conv.OutH, conv.OutW, conv.KH - 1 - conv.PH,
                    taps - 1 - offset, conv.H, columns, conv.W, conv.SW, phase, budget, singleChannelAllowed: true);
                if (shape is null) return null;
                phases.Add((phase, shape.Value, weightOffset));
            }
            weightOffset += conv.Cin * conv.Cout * conv.KH * taps;
        }

        var weightGradient = PlanWeightGradient(conv, budget, targetBlocks ?? 8 * Math.Max(1, multiprocessors));
        if (weightGradient is null) return null;
        return new TiledConvPlan(conv, forward.Value, phases, weightGradient.Value);
    }

    /// <summary>Thread groups of a single-channel correlation (four warps of 32 lanes: 1024 positions per tile).</summary>
    private const int SingleChannelGroups = 4;

    /// <param name="singleChannelAllowed">One output channel may take the single-channel layout (<see cref="CorrelationShape"/>);
    /// the forward never does, since its statistics epilogue assumes one thread group per tile.</param>
    private static CorrelationShape? PlanCorrelation(int cin, int cout, int kh, int taps, int stride, int inH, int inW,
        int padTop, int padLeft, int rows, int columns, int outW, int outStride, int outOffset, int budget,
        bool singleChannelAllowed = false)
    {
        var pitch = stride == 1 ? Math.Max(columns + taps - 1, columns) : (columns - 1) * stride + taps;
        var positions = stride == 1 ? rows * pitch : columns;
        // Fewest lanes whose tile of 8·lanes positions still covers the image, so small layers waste few threads.
        var lanes = 32;
        while (lanes > 4 && 8 * (lanes / 2) >= positions) lanes /= 2;
        var single = singleChannelAllowed && cout == 1;
        int groups, tilePositions, channels;
        if (single)
        {
            // Fewest groups (of up to four) whose tile still covers the image.
            groups = SingleChannelGroups;
            while (groups > 1 && 8 * lanes * (groups / 2) >= positions) groups /= 2;
            (tilePositions, channels) = (8 * lanes * groups, 1);
        }
        else
        {
            groups = (Math.Min(cout, 64) + 7) / 8;
            var groupsPerWarp = 32 / lanes;
            groups = (groups + groupsPerWarp - 1) / groupsPerWarp * groupsPerWarp; // whole warps, for the shuffles
            (tilePositions, channels) = (8 * lanes, 8 * groups);
        }
        var phaseLength = (CorrelationShape.InputSpan(tilePositions, kh, taps, stride, pitch) + stride - 1) / stride;
        var perChannel = kh * taps * channels + stride * phaseLength;
        var chunk = Math.Min(cin, budget / perChannel);
        if (chunk < 1) return null;
        return new CorrelationShape(cin, cout, kh, taps, stride, inH, inW, padTop, padLeft, rows, columns, outW, outStride,
            outOffset, lanes, groups, chunk, single);
    }

    /// <summary>
    /// The output tile with the most threads (up to <see cref="MaxWeightThreads"/>) whose staging fits in shared memory:
    /// for each block of positions (128, 64, 32) and each split of the output channels into even blocks, as many input
    /// channels as fit; ties keep the larger block, then the fewer channel blocks (every staged input channel then serves
    /// more output channels). Lanes fill the group up to <see cref="MaxWeightThreads"/> threads, and the batch is split
    /// into chunks until there are about <paramref name="targetBlocks"/> groups.
    /// </summary>
    private static WeightGradientShape? PlanWeightGradient(Conv2dShape c, int budget, int targetBlocks)
    {
        var groups = (c.Cout + 7) / 8;
        var perInputChannel = WeightGradientShape.ThreadsPerInputChannel(c.KH, c.KW, c.SW);
        (int Block, int GroupsPerTile, int CinPerTile, int Threads) best = default;
        foreach (var block in new[] { 128, 64, 32 })
        {
            for (var groupBlocks = 1; groupBlocks <= groups; groupBlocks++)
            {
                var groupsPerTile = (groups + groupBlocks - 1) / groupBlocks;
                if (groupBlocks > 1 && (groups + groupBlocks - 2) / (groupBlocks - 1) == groupsPerTile) continue; // same tile as before
                if (perInputChannel * groupsPerTile > MaxWeightThreads) continue;
                var cinPerTile = Math.Min(c.Cin, MaxWeightThreads / (perInputChannel * groupsPerTile));
                while (cinPerTile >= 1 && WeightGradientShape.SharedLengthFor(c.Cin, c.Cout, c.KH, c.KW, c.SW, c.OutW, block,
                           groupsPerTile, cinPerTile) > budget)
                    cinPerTile--;
                if (cinPerTile < 1) continue;
                var cinBlocks = (c.Cin + cinPerTile - 1) / cinPerTile;
                cinPerTile = (c.Cin + cinBlocks - 1) / cinBlocks; // even blocks: same count, fewest idle slots
                var threads = perInputChannel * groupsPerTile * cinPerTile;
                if (threads > best.Threads) best = (block, groupsPerTile, cinPerTile, threads);
            }
        }
        if (best.Threads == 0) return null;
        var lanes = Math.Clamp(MaxWeightThreads / best.Threads, 1, best.Block / 8);
        var probe = new WeightGradientShape(c.Cin, c.Cout, c.KH, c.KW, c.SW, c.H, c.W, c.PH, c.PW, c.OutH, c.OutW,
            best.Block, best.GroupsPerTile, best.CinPerTile, lanes, best.Block);
        var slicesPerImage = Math.Max(1, (targetBlocks + c.N * probe.OutputTiles - 1) / (c.N * probe.OutputTiles));
        var chunkLength = (probe.Total + slicesPerImage - 1) / slicesPerImage;
        chunkLength = Math.Max(best.Block, (chunkLength + best.Block - 1) / best.Block * best.Block);
        return new WeightGradientShape(c.Cin, c.Cout, c.KH, c.KW, c.SW, c.H, c.W, c.PH, c.PW, c.OutH, c.OutW,
            best.Block, best.GroupsPerTile, best.CinPerTile, lanes, chunkLength);
    }
}
