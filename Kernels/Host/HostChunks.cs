using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>Runs an element-wise loop over [0, count) in chunks, one chunk per work item.</summary>
internal static class HostChunks
{
    private const int Chunk = 1 << 18;

    public static void For(long count, Action<int, int> body)
    {
        var chunks = (int)((count + Chunk - 1) / Chunk);
        HostParallel.For(chunks, (_, chunk) => body(chunk * Chunk, (int)Math.Min(Chunk, count - (long)chunk * Chunk)));
    }

    /// <summary>Runs a loop over <paramref name="planes"/> planes of <paramref name="planeLength"/> values, whole planes
    /// grouped into items of about a chunk each (body gets the first plane and the count), so that many small planes
    /// do not cost a work item each.</summary>
    public static void ForPlanes(int planes, long planeLength, Action<int, int> body)
    {
        var perItem = (int)Math.Clamp(Chunk / Math.Max(planeLength, 1), 1, Math.Max(planes, 1));
        var items = (planes + perItem - 1) / perItem;
        HostParallel.For(items, (_, item) => body(item * perItem, Math.Min(perItem, planes - item * perItem)));
    }
}
