using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>A convolution's bias on the host: the formulas of <see cref="ChannelBiasKernels"/>. The gradient runs one
/// channel per work item over its N planes in order, summed as <see cref="HostBatchNormOps"/> sums a channel (runs of
/// <see cref="HostBatchNormOps.Run"/> values in 16 float lanes, the runs added in double).</summary>
internal sealed unsafe class HostChannelBiasOps : IChannelBiasOps
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
            var vector = Vector512.Create(value);
            var p = 0;
            for (; p + 16 <= s.Spatial; p += 16) (Vector512.Load(row + p) + vector).Store(row + p);
            for (; p < s.Spatial; p++) row[p] += value;
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
                for (var p = 0; p < s.Spatial; p += HostBatchNormOps.Run)
                    sum += HostBatchNormOps.ShiftedSums(row + p, Math.Min(HostBatchNormOps.Run, s.Spatial - p), 0f).Sum;
            }
            db[c] = (float)sum;
        });
    }
}
