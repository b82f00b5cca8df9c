using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Host;

/// <summary>Scratch memory of a host op, zeroed and 64-byte aligned (one cache line, the widest vector), allocated once
/// at plan time.</summary>
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

internal static class HostBuffer
{
    /// <summary><paramref name="value"/> rounded up to a multiple of <paramref name="multiple"/>.</summary>
    public static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
