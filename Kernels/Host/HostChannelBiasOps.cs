using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>A convolution's bias on the host: the formulas of <see cref="ChannelBiasKernels"/>. The gradient runs one
/// channel per work item over its N planes in order, summed as <see cref="HostBatchNormOps{TSimd, TVector}"/> sums a
/// channel (runs of <see cref="HostBatchNormOps{TSimd, TVector}.Run"/> values in float lanes, the runs added in double).</summary>
internal sealed unsafe class HostChannelBiasOps<TSimd, TVector> : IChannelBiasOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    public void AddBias(ChannelBiasShape s, ArrayView<float> output, ArrayView<float> bias)
    {
        const string operation = "HostChannelBiasOps.AddBias";
        ViewChecks.RequireLength(output, s.Length, operation, nameof(output));
        ViewChecks.RequireLength(bias, s.C, operation, nameof(bias));
        var y = HostView.Ptr(output);
        var b = HostView.Ptr(bias);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var row = y + (long)plane * s.Spatial;
            var value = b[plane % s.C];
            HostVector<TSimd, TVector>.AddScalar(row, value, s.Spatial);
        });
    }

    public void BiasGradient(ChannelBiasShape s, ArrayView<float> gradOutput, ArrayView<float> gradBias)
    {
        const string operation = "HostChannelBiasOps.BiasGradient";
        ViewChecks.RequireLength(gradOutput, s.Length, operation, nameof(gradOutput));
        ViewChecks.RequireLength(gradBias, s.C, operation, nameof(gradBias));
        var dy = HostView.Ptr(gradOutput);
        var db = HostView.Ptr(gradBias);
        HostParallel.For(s.C, (_, c) =>
        {
            var sum = 0.0;
            for (var n = 0; n < s.N; n++)
            {
                var row = dy + ((long)n * s.C + c) * s.Spatial;
                for (var p = 0; p < s.Spatial; p += HostBatchNormOps<TSimd, TVector>.Run)
                    sum += HostBatchNormOps<TSimd, TVector>.ShiftedSums(row + p, Math.Min(HostBatchNormOps<TSimd, TVector>.Run, s.Spatial - p), 0f).Sum;
            }
            db[c] = (float)sum;
        });
    }
}
