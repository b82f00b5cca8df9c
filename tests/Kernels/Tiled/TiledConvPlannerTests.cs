using EnvNet.Kernels;
using EnvNet.Kernels.Tiled;
using EnvNet.Training.Commands;

namespace EnvNet.Tests;

/// <summary>
/// The launch plans CUDA gets (<see cref="TiledConvPlanner"/>, the tiled GEMM), checked as plain arithmetic against
/// CUDA's limits on each checked architecture, for every layer of every registered model at several batches: group
/// size, grid, the registers a group may ask for, shared memory with and without opt-in; and the tiles of every
/// tiled convolution cover each output exactly once. A plan that would fail to launch, or leave an output unwritten,
/// fails here without a GPU.
/// </summary>
[TestClass]
public sealed class TiledConvPlannerTests
{
    private static readonly int[] Batches = [1, 8, 32, 64];

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void EveryLayerOfEveryModel_LaunchesWithinCudasLimits_AtBatches1To64()
    {
        var entries = TiledKernelBackend.EntryPoints([]);
        var failures = new List<string>();
        var (launches, tiled) = (0, 0);
        foreach (var target in CudaTarget.Checked)
            foreach (var (model, layer, _) in RegisteredModelLayers.All)
                foreach (var batch in Batches)
                {
                    var plan = CudaPlanView.Plan(layer, batch, target);
                    if (plan.ConvPlan is not null) tiled++;
                    foreach (var launch in plan.Launches)
                    {
                        launches++;
                        var entry = entries.Single(e => e.Method.Name == launch.Kernel && e.Grouping == KernelGrouping.Explicit);
                        foreach (var problem in Problems(launch, batch, entry, target))
                            failures.Add($"{target.Name} {model} {layer.Name} batch {batch}: {launch}: {problem}");
                    }
                }
        TestContext.WriteLine($"{launches} launches checked, {tiled} tiled convolution plans");
        Assert.IsEmpty(failures, string.Join("\n", failures.Take(50)));
        Assert.IsGreaterThan(0, tiled, "the registered models have tiled convolutions");
    }

    /// <summary>What would stop <paramref name="launch"/> on a GPU of <paramref name="target"/>'s architecture.</summary>
    public static IEnumerable<string> Problems(TiledLaunch launch, int batch, KernelEntryPoint entry, CudaTarget target)
    {
        var (group, grid) = (launch.Group, launch.Grid);
        if (group.X < 1 || group.Y < 1 || group.Z < 1 || group.X > 1024 || group.Y > 1024 || group.Z > 64)
            yield return "group dimensions outside 1..(1024, 1024, 64)";
        if (launch.GroupSize > CudaTarget.MaxThreadsPerGroup)
            yield return $"{launch.GroupSize} threads per group, over {CudaTarget.MaxThreadsPerGroup}";
        if (grid.X < 1 || grid.X > CudaTarget.MaxGridX || grid.Y < 1 || grid.Y > CudaTarget.MaxGridYZ || grid.Z < 1 || grid.Z > CudaTarget.MaxGridYZ)
            yield return $"grid outside 1..({CudaTarget.MaxGridX}, {CudaTarget.MaxGridYZ}, {CudaTarget.MaxGridYZ})";
        // ILGPU launches without opting in to more shared memory, so the plain limit applies; the opt-in one is larger.
        if (launch.SharedBytes > CudaTarget.MaxSharedBytesPerGroup)
            yield return $"{launch.SharedBytes} bytes of shared memory, over {CudaTarget.MaxSharedBytesPerGroup} without opt-in";
        if (launch.SharedBytes > target.MaxSharedBytesPerGroupOptIn)
            yield return $"{launch.SharedBytes} bytes of shared memory, over {target.MaxSharedBytesPerGroupOptIn} with opt-in";
        // The GPU compiler may give a kernel up to 255 registers a thread unless it is compiled for a largest group
        // (.maxntid), which then bounds them; a group must fit the register file in either case.
        var registersPerThread = entry.GroupSpecialization.MaxNumThreadsPerGroup is { } max
            ? (launch.GroupSize <= max ? CudaTarget.RegistersPerThreadFor(max) : CudaTarget.MaxRegistersPerThread)
            : CudaTarget.MaxRegistersPerThread;
        if ((long)launch.GroupSize * registersPerThread > CudaTarget.RegistersPerGroup)
            yield return $"{launch.GroupSize} threads × up to {registersPerThread} registers, over {CudaTarget.RegistersPerGroup}" +
                         (entry.GroupSpecialization.MaxNumThreadsPerGroup is null ? " (compile it for its group size)" : "");
        if (launch.Kernel is nameof(TiledConvKernels.Correlate) or nameof(TiledConvKernels.WeightGradientPartial) && grid.Y != batch)
            yield return $"grid y {grid.Y}, not the batch {batch}";
    }

    [TestMethod]
    public void EveryTiledConvolution_CoversEachOutputExactlyOnce()
    {
        var failures = new List<string>();
        var checkedPlans = 0;
        foreach (var target in CudaTarget.Checked)
            foreach (var (model, layer, _) in RegisteredModelLayers.All.Where(l => l.Layer.Conv is not null))
            {
                if (CudaPlanView.ConvPlan(layer.Conv!.Value.WithBatch(Batches[^1]), target) is not { } plan) continue;
                checkedPlans++;
                foreach (var problem in CoverageProblems(plan))
                    failures.Add($"{target.Name} {model} {layer.Name} {plan.Conv}: {problem}");
            }
        TestContext.WriteLine($"{checkedPlans} plans covered");
        Assert.IsEmpty(failures, string.Join("\n", failures.Take(50)));
        Assert.IsGreaterThan(0, checkedPlans);
    }

    /// <summary>Where the plan's tiles leave an output unwritten or write it twice.</summary>
    public static IEnumerable<string> CoverageProblems(TiledConvPlan plan)
    {
        var c = plan.Conv;
        var forward = new int[c.Cout * c.OutH * c.OutW];
        Cover(plan.Forward, forward);
        if (Miscount(forward) is { } f) yield return $"forward: {f}";

        var inputGradient = new int[c.Cin * c.H * c.W];
        foreach (var (_, shape, _) in plan.InputGradient) Cover(shape, inputGradient);
        if (Miscount(inputGradient) is { } g) yield return $"input gradient: {g}";

        var w = plan.WeightGradient;
        var weights = new int[w.WeightLength];
        CoverWeights(w, weights);
        if (Miscount(weights) is { } m) yield return $"weight gradient: {m}";
        if ((long)w.Chunks * w.ChunkLength < w.Total || (long)(w.Chunks - 1) * w.ChunkLength >= w.Total || w.ChunkLength % w.Block != 0)
            yield return $"weight gradient: {w.Chunks} chunks of {w.ChunkLength} do not split {w.Total} positions into whole blocks of {w.Block}";
        var reduce = plan.ReducePartials(c.N);
        if ((long)reduce.Grid.X * reduce.Group.X < w.WeightLength)
            yield return $"the sum covers {reduce.Grid.X * reduce.Group.X} of {w.WeightLength} weights";
    }

    private static string? Miscount(int[] counts)
    {
        var unwritten = counts.Count(n => n == 0);
        var twice = counts.Count(n => n > 1);
        return unwritten == 0 && twice == 0 ? null : $"{unwritten} of {counts.Length} outputs unwritten, {twice} written more than once";
    }

    /// <summary>Counts the outputs of one sample that <see cref="TiledConvKernels.Correlate"/> writes with
    /// <paramref name="s"/>: thread (group g, lane l) of tile t and channel tile z writes positions
    /// t·TilePositions + offset + Lanes·j (offset l, plus g·8·Lanes with one channel) of channels z·ChannelsPerTile + 8g..8g+7
    /// (just z with one channel), dropping the columns past Q and the rows past R.</summary>
    private static void Cover(CorrelationShape s, int[] counts)
    {
        var plane = s.R * s.OutW;
        for (var tile = 0; tile < s.Tiles; tile++)
            for (var z = 0; z < s.ChannelTiles; z++)
                for (var thread = 0; thread < s.Threads; thread++)
                {
                    var (lane, group) = (thread % s.Lanes, thread / s.Lanes);
                    var offset = lane + (s.SingleChannel == 1 ? group * 8 * s.Lanes : 0);
                    for (var j = 0; j < 8; j++)
                    {
                        var p = tile * s.TilePositions + offset + s.Lanes * j;
                        var (r, q) = (p / s.OutPitch, p % s.OutPitch);
                        if (r >= s.R || q >= s.Q) continue;
                        var at = r * s.OutW + s.OutOffset + s.OutStride * q;
                        for (var k = 0; k < (s.SingleChannel == 1 ? 1 : 8); k++)
                        {
                            var co = z * s.ChannelsPerTile + (s.SingleChannel == 1 ? 0 : group * 8 + k);
                            if (co < s.Cout) counts[co * plane + at]++;
                        }
                    }
                }
    }

    /// <summary>Counts the weights <see cref="TiledConvKernels.WeightGradientPartial"/> writes in one lane's slice:
    /// output tile z = channel block · CinBlocks + input-channel block; thread (tap block, phase, kh, ci, group) of
    /// the tile writes channels 8·(first group + group)..+7 at taps phase + S·(8·tap block + k).</summary>
    private static void CoverWeights(WeightGradientShape s, int[] counts)
    {
        for (var z = 0; z < s.OutputTiles; z++)
            for (var local = 0; local < s.OutputTile; local++)
            {
                var channelBlock = z / s.CinBlocks;
                var firstCin = (z - channelBlock * s.CinBlocks) * s.CinPerTile;
                var firstGroup = channelBlock * s.GroupsPerTile;
                var tapBlock = local % s.TapBlocks;
                var rest = local / s.TapBlocks;
                var phase = rest % s.S;
                rest /= s.S;
                var kh = rest % s.KH;
                rest /= s.KH;
                var (ci, group) = (rest % s.CinPerTile, rest / s.CinPerTile);
                if (firstCin + ci >= s.Cin || firstGroup + group >= s.Groups) continue;
                for (var k0 = 0; k0 < 8; k0++)
                {
                    var co = (firstGroup + group) * 8 + k0;
                    if (co >= s.Cout) continue;
                    for (var k = 0; k < 8; k++)
                    {
                        var kw = phase + s.S * (8 * tapBlock + k);
                        if (kw < s.KW) counts[((co * s.Cin + firstCin + ci) * s.KH + kh) * s.KW + kw]++;
                    }
                }
            }
    }

    [TestMethod]
    public void TheCoverageCheck_FindsAPlanThatSkipsATile()
    {
        var conv = new Conv2dShape(8, 4, 1, 300, 16, 1, 9);
        var plan = TiledConvPlanner.Plan(conv, CudaTarget.MaxSharedBytesPerGroup, 132)!;
        Assert.IsEmpty(CoverageProblems(plan).ToList());
        var forward = new int[conv.Cout * conv.OutH * conv.OutW];
        Cover(plan.Forward, forward);
        forward[0] = 0; // as if the first tile were never launched
        Assert.IsNotNull(Miscount(forward));
    }

    [TestMethod]
    public void TheLimitCheck_RefusesAnOversizedGroupAndSharedMemory()
    {
        var entry = TiledKernelBackend.EntryPoints([]).Single(e => e.Method.Name == nameof(TiledConvKernels.Correlate));
        var launch = new TiledLaunch("forward", entry.Method.Name, new ILGPU.Index3D(4, 8, 1), new ILGPU.Index3D(512, 1, 1), 50 * 1024, 0);
        var problems = Problems(launch, 8, entry, CudaTarget.Pascal).ToList();
        Assert.HasCount(3, problems, string.Join("\n", problems)); // registers, shared memory with and without opt-in
        Assert.IsEmpty(Problems(launch with { Group = new ILGPU.Index3D(256, 1, 1), DynamicSharedBytes = 40 * 1024 }, 8, entry, CudaTarget.Pascal));
    }
}
