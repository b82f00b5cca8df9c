using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>Sizes of a per-channel bias over [N, C, Spatial] (Spatial = L for 1-D, H·W for 2-D convolutions).</summary>
public readonly struct ChannelBiasShape
{
    public int N { get; }
    public int C { get; }
    public int Spatial { get; }

    public ChannelBiasShape(int n, int c, int spatial)
    {
        if (n < 0 || c < 1 || spatial < 1)
            throw new ArgumentException($"Channel bias: need batch >= 0, channels >= 1, positions >= 1; got N={n} C={c} positions={spatial}.");
        (N, C, Spatial) = (n, c, spatial);
    }

    public long Length => (long)N * C * Spatial;

    public override string ToString() => $"N={N} C={C} positions={Spatial}";
}

public interface IChannelBiasOps
{
    /// <summary>output[N,C,Spatial] += bias[C] in place.</summary>
    void AddBias(ChannelBiasShape shape, ArrayView<float> output, ArrayView<float> bias);

    /// <summary>gradBias[C] = gradOutput[N,C,Spatial] summed over samples and positions; overwrites gradBias.</summary>
    void BiasGradient(ChannelBiasShape shape, ArrayView<float> gradOutput, ArrayView<float> gradBias);
}
