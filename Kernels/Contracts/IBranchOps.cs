using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// Where one part sits in a tensor joined along the channel axis: the joined tensor is [N, Channels, Spatial], the
/// part [N, PartChannels, Spatial] occupies channels Offset … Offset + PartChannels − 1 of every sample.
/// </summary>
public readonly struct ChannelSliceShape
{
    public int N { get; }
    public int Channels { get; }
    public int Offset { get; }
    public int PartChannels { get; }
    public int Spatial { get; }

    public ChannelSliceShape(int n, int channels, int offset, int partChannels, int spatial)
    {
        if (n < 0 || channels < 1 || partChannels < 1 || spatial < 1 || offset < 0 || offset + partChannels > channels)
            throw new ArgumentException(
                $"Channel slice: need batch >= 0 and channels {offset}..{offset + partChannels - 1} inside 0..{channels - 1}, positions >= 1; got N={n} positions={spatial}.");
        (N, Channels, Offset, PartChannels, Spatial) = (n, channels, offset, partChannels, spatial);
    }

    public long JoinedLength => (long)N * Channels * Spatial;
    public long PartLength => (long)N * PartChannels * Spatial;

    public override string ToString() => $"N={N} channels {Offset}..{Offset + PartChannels - 1} of {Channels}, positions={Spatial}";
}

public interface IBranchOps
{
    /// <summary>Copies part [N, PartChannels, Spatial] into its channels of joined [N, Channels, Spatial].</summary>
    void InsertChannels(ChannelSliceShape shape, ArrayView<float> part, ArrayView<float> joined);

    /// <summary>Copies the part's channels of joined [N, Channels, Spatial] out into part [N, PartChannels, Spatial].</summary>
    void ExtractChannels(ChannelSliceShape shape, ArrayView<float> joined, ArrayView<float> part);

    /// <summary>output = a + b over the first <paramref name="count"/> elements; output may be a or b.</summary>
    void Add(long count, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output);
}
