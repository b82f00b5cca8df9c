namespace EnvNet.Kernels.Host;

/// <summary>Element-wise loops over float runs, vectors of <typeparamref name="TSimd"/> with a scalar tail; each
/// element rounds exactly as the scalar expression would (no contraction into fused multiply-adds), so results match
/// the plain kernels bit for bit at every width.</summary>
internal static unsafe class HostVector<TSimd, TVector> where TSimd : ISimd<TVector> where TVector : unmanaged
{
    /// <summary>sum[i] = a[i] + b[i] for i &lt; count (sum may be a or b).</summary>
    public static void Add(float* a, float* b, float* sum, int count)
    {
        var i = 0;
        for (; i + TSimd.Lanes <= count; i += TSimd.Lanes) TSimd.Store(TSimd.Add(TSimd.Load(a + i), TSimd.Load(b + i)), sum + i);
        for (; i < count; i++) sum[i] = a[i] + b[i];
    }

    /// <summary>x[i] += value for i &lt; count.</summary>
    public static void AddScalar(float* x, float value, int count)
    {
        var vector = TSimd.Broadcast(value);
        var i = 0;
        for (; i + TSimd.Lanes <= count; i += TSimd.Lanes) TSimd.Store(TSimd.Add(TSimd.Load(x + i), vector), x + i);
        for (; i < count; i++) x[i] += value;
    }
}
