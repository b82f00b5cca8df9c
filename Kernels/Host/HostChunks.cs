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
}
