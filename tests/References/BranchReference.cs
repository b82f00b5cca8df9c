namespace EnvNet.Tests.References;

/// <summary>Float64 joins of parallel branches: torch.cat along the channel axis, and a residual sum with an optional
/// ReLU after it.</summary>
public static class BranchReference
{
    /// <summary>Joins parts [N, C_i, Spatial] into [N, ΣC_i, Spatial], sample by sample, part after part.</summary>
    public static double[] ConcatChannels(int batch, int spatial, params (double[] Values, int Channels)[] parts)
    {
        var joined = new List<double>();
        for (var n = 0; n < batch; n++)
            foreach (var (values, channels) in parts)
                joined.AddRange(values.Skip(n * channels * spatial).Take(channels * spatial));
        return joined.ToArray();
    }

    /// <summary>y = body + shortcut, then max(y, 0) when <paramref name="reluAfter"/>.</summary>
    public static double[] Residual(double[] body, double[] shortcut, bool reluAfter) =>
        body.Select((b, i) => reluAfter ? Math.Max(b + shortcut[i], 0) : b + shortcut[i]).ToArray();
}
