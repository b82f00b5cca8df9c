using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>The branch containers' copies and sum on the host (<see cref="BranchKernels"/>): a channel slice is N runs
/// of PartChannels·Spatial contiguous floats, one run per work item; the sum runs in chunks.</summary>
internal sealed unsafe class HostBranchOps<TSimd, TVector> : IBranchOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    public void InsertChannels(ChannelSliceShape s, ArrayView<float> part, ArrayView<float> joined)
    {
        Check(s, "HostBranchOps.InsertChannels", part, joined);
        var from = HostView.Ptr(part);
        var to = HostView.Ptr(joined);
        var run = (long)s.PartChannels * s.Spatial;
        HostParallel.For(s.N, (_, n) =>
            new ReadOnlySpan<float>(from + n * run, (int)run).CopyTo(new Span<float>(to + ((long)n * s.Channels + s.Offset) * s.Spatial, (int)run)));
    }

    public void ExtractChannels(ChannelSliceShape s, ArrayView<float> joined, ArrayView<float> part)
    {
        Check(s, "HostBranchOps.ExtractChannels", part, joined);
        var from = HostView.Ptr(joined);
        var to = HostView.Ptr(part);
        var run = (long)s.PartChannels * s.Spatial;
        HostParallel.For(s.N, (_, n) =>
            new ReadOnlySpan<float>(from + ((long)n * s.Channels + s.Offset) * s.Spatial, (int)run).CopyTo(new Span<float>(to + n * run, (int)run)));
    }

    public void Add(long count, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
    {
        const string operation = "HostBranchOps.Add";
        ViewChecks.RequireLength(a, count, operation, nameof(a));
        ViewChecks.RequireLength(b, count, operation, nameof(b));
        ViewChecks.RequireLength(output, count, operation, nameof(output));
        var x = HostView.Ptr(a);
        var y = HostView.Ptr(b);
        var z = HostView.Ptr(output);
        HostChunks.For(count, (start, length) => HostVector<TSimd, TVector>.Add(x + start, y + start, z + start, length));
    }

    private static void Check(ChannelSliceShape s, string operation, ArrayView<float> part, ArrayView<float> joined)
    {
        ViewChecks.RequireLength(part, s.PartLength, operation, nameof(part));
        ViewChecks.RequireLength(joined, s.JoinedLength, operation, nameof(joined));
    }
}
