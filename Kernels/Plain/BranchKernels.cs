using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>What containers of parallel branches need: a part copied into or out of its channels of a joined tensor
/// (concatenation forward and backward) and an element-wise sum (residual forward, gradients of a shared input).</summary>
public static class BranchKernels
{
    /// <summary>joined[n, Offset + c, p] = part[n, c, p], one iteration per part element.</summary>
    public static void InsertChannels(Index1D thread, ElementGrid grid, ChannelSliceShape s, ArrayView<float> part, ArrayView<float> joined)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var p = i % s.Spatial;
            var rest = i / s.Spatial;
            var c = rest % s.PartChannels;
            var n = rest / s.PartChannels;
            joined[(n * s.Channels + s.Offset + c) * s.Spatial + p] = part[i];
        }
    }

    /// <summary>part[n, c, p] = joined[n, Offset + c, p], one iteration per part element.</summary>
    public static void ExtractChannels(Index1D thread, ElementGrid grid, ChannelSliceShape s, ArrayView<float> joined, ArrayView<float> part)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            var p = i % s.Spatial;
            var rest = i / s.Spatial;
            var c = rest % s.PartChannels;
            var n = rest / s.PartChannels;
            part[i] = joined[(n * s.Channels + s.Offset + c) * s.Spatial + p];
        }
    }

    /// <summary>output[i] = a[i] + b[i]; output may be a or b (each element is read before it is written).</summary>
    public static void Add(Index1D thread, ElementGrid grid, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            output[i] = a[i] + b[i];
        }
    }
}

/// <summary>The branch kernels loaded once for one accelerator.</summary>
public sealed class BranchOps : IBranchOps
{
    private static readonly ConditionalWeakTable<Accelerator, BranchOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, ChannelSliceShape, ArrayView<float>, ArrayView<float>> _insert;
    private readonly Action<Index1D, ElementGrid, ChannelSliceShape, ArrayView<float>, ArrayView<float>> _extract;
    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>> _add;

    private readonly Accelerator _accelerator;

    private BranchOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _insert = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ChannelSliceShape, ArrayView<float>, ArrayView<float>>(BranchKernels.InsertChannels);
        _extract = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ChannelSliceShape, ArrayView<float>, ArrayView<float>>(BranchKernels.ExtractChannels);
        _add = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BranchKernels.Add);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static BranchOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new BranchOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(BranchOps), BranchKernels.InsertChannels),
        KernelEntryPoint.AutoGrouped(nameof(BranchOps), BranchKernels.ExtractChannels),
        KernelEntryPoint.AutoGrouped(nameof(BranchOps), BranchKernels.Add),
    ];

    public void InsertChannels(ChannelSliceShape shape, ArrayView<float> part, ArrayView<float> joined)
    {
        const string operation = "BranchOps.InsertChannels";
        CheckSlice(shape, operation, part, joined);
        var grid = ElementGrid.For(_accelerator, shape.PartLength);
        if (shape.PartLength > 0) _insert(grid.Threads, grid, shape, part, joined);
    }

    public void ExtractChannels(ChannelSliceShape shape, ArrayView<float> joined, ArrayView<float> part)
    {
        const string operation = "BranchOps.ExtractChannels";
        CheckSlice(shape, operation, part, joined);
        var grid = ElementGrid.For(_accelerator, shape.PartLength);
        if (shape.PartLength > 0) _extract(grid.Threads, grid, shape, joined, part);
    }

    public void Add(long count, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
    {
        const string operation = "BranchOps.Add";
        ViewChecks.RequireIndexable(count, operation);
        ViewChecks.RequireLength(a, count, operation, nameof(a));
        ViewChecks.RequireLength(b, count, operation, nameof(b));
        ViewChecks.RequireLength(output, count, operation, nameof(output));
        var grid = ElementGrid.For(_accelerator, count);
        if (count > 0) _add(grid.Threads, grid, a, b, output);
    }

    private static void CheckSlice(ChannelSliceShape shape, string operation, ArrayView<float> part, ArrayView<float> joined)
    {
        ViewChecks.RequireIndexable(shape.JoinedLength, operation);
        ViewChecks.RequireLength(part, shape.PartLength, operation, nameof(part));
        ViewChecks.RequireLength(joined, shape.JoinedLength, operation, nameof(joined));
    }
}
