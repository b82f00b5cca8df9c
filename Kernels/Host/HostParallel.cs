using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Host;

/// <summary>
/// The host ops' only parallel loop: items 0..count−1 handed out in order to one worker per core, each with an index
/// that picks its scratch. An item's result must not depend on which worker runs it (every item writes its own
/// outputs, reductions go through per-item slots summed in a fixed order), so results are the same on every run
/// whatever the thread timing.
/// </summary>
internal static class HostParallel
{
    public static int Workers { get; } = Math.Max(1, Environment.ProcessorCount);

    public static void For(int count, Action<int, int> body)
    {
        if (count <= 0) return;
        var workers = Math.Min(Workers, count);
        if (workers == 1)
        {
            for (var i = 0; i < count; i++) body(0, i);
            return;
        }
        var next = -1;
        Parallel.For(0, workers, worker =>
        {
            int item;
            while ((item = Interlocked.Increment(ref next)) < count) body(worker, item);
        });
    }
}
