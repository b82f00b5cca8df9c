namespace EnvNet.Network;

/// <summary>Seeds of the layers that draw random numbers while training (dropout), from the model's seed.</summary>
public static class LayerSeeds
{
    /// <summary>An independent seed per layer position (SplitMix64 finaliser), so two dropout layers never share a mask.</summary>
    public static ulong Derive(int seed, int layerIndex)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)layerIndex) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
