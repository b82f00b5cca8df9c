using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// A float32 buffer on the accelerator with an NCHW-style shape. Activations are allocated once for the
/// largest batch of a run; a pass over a smaller batch uses the leading part (<see cref="Slice"/>).
/// </summary>
public sealed class DeviceTensor : IDisposable
{
    private static long _liveBytes;
    private bool _disposed;

    /// <summary>Bytes held by all DeviceTensors not yet disposed, on every accelerator: the device memory a model's
    /// buffers take, reported by <c>envnet bench</c>.</summary>
    public static long LiveBytes => Interlocked.Read(ref _liveBytes);

    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }
    public int[] Shape { get; }

    public DeviceTensor(Accelerator accelerator, params int[] shape)
    {
        Shape = (int[])shape.Clone();
        Buffer = accelerator.Allocate1D<float>(ShapeUtil.Elements(shape));
        Buffer.MemSetToZero();
        Interlocked.Add(ref _liveBytes, Buffer.LengthInBytes);
    }

    public long Length => Buffer.Length;
    public ArrayView<float> View => Buffer.View.BaseView;

    /// <summary>The first <paramref name="count"/> elements, e.g. the first n samples of a batch.</summary>
    public ArrayView<float> Slice(long count) => View.SubView(0, count);

    public void CopyFrom(ReadOnlySpan<float> host)
    {
        if (host.Length > Length)
            throw new ArgumentException($"Cannot copy {host.Length} values into a tensor of {Length}.");
        View.SubView(0, host.Length).CopyFromCPU(host);
    }

    public void CopyTo(Span<float> host)
    {
        if (host.Length > Length)
            throw new ArgumentException($"Cannot copy {host.Length} values out of a tensor of {Length}.");
        View.SubView(0, host.Length).CopyToCPU(host);
    }

    public float[] ToArray()
    {
        var result = new float[Length];
        CopyTo(result);
        return result;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Interlocked.Add(ref _liveBytes, -Buffer.LengthInBytes);
        Buffer.Dispose();
    }
}

public static class ShapeUtil
{
    public static long Elements(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(",", shape.ToArray()) + ")";
}
