using System.Runtime.Intrinsics;
using ILGPU;
using static EnvNet.Kernels.Host.HostTile;

namespace EnvNet.Kernels.Host;

/// <summary>Element-wise loops over spans, Vector512 wide with a scalar tail; each element rounds exactly as the scalar
/// expression would (no contraction into fused multiply-adds), so results match the plain kernels bit for bit.</summary>
internal static class HostVector
{
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> sum)
    {
        var i = 0;
        for (; i + 16 <= sum.Length; i += 16)
            (Vector512.Create(a[i..]) + Vector512.Create(b[i..])).CopyTo(sum[i..]);
        for (; i < sum.Length; i++) sum[i] = a[i] + b[i];
    }
}
