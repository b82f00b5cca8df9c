using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Cpu;

/// <summary>
/// Host access to buffers of ILGPU's CPU accelerator: they are plain host memory, so a view's effective address is a
/// host pointer the host kernels read and write directly. Kernel launches and copies on the CPU accelerator finish
/// before they return, so host code and ILGPU kernels can follow each other on the same buffers without a
/// synchronisation in between.
/// </summary>
internal static unsafe class HostView
{
    public static T* Ptr<T>(ArrayView<T> view) where T : unmanaged =>
        view.Length == 0 ? null : (T*)view.LoadEffectiveAddressAsPtr();

    public static Span<T> Span<T>(ArrayView<T> view) where T : unmanaged => new(Ptr(view), checked((int)view.Length));
}

/// <summary>Scratch memory of a host op, zeroed and 64-byte aligned (one cache line, one Vector512), allocated once at
/// plan time.</summary>
internal sealed unsafe class HostBuffer<T> : IDisposable where T : unmanaged
{
    public T* Ptr { get; private set; }
    public long Length { get; }

    public HostBuffer(long length)
    {
        Length = Math.Max(length, 1);
        Ptr = (T*)NativeMemory.AlignedAlloc((nuint)(Length * sizeof(T)), 64);
        NativeMemory.Clear(Ptr, (nuint)(Length * sizeof(T)));
    }

    public void Dispose()
    {
        if (Ptr == null) return;
        NativeMemory.AlignedFree(Ptr);
        Ptr = null;
    }
}

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
