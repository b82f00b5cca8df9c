namespace EnvNet.Esc50Dataset;

/// <summary>
/// A small counter-based random generator (SplitMix64). Every random choice of the training stream is drawn from
/// a generator derived from (seed, epoch) or (seed, epoch, position in the epoch), never from shared state, so the
/// batches do not depend on which thread produced them or in which order. Augmentations draw from the
/// generator of their example.
/// </summary>
public struct ExampleRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const ulong EpochStream = 0x45706F6368UL;      // distinct salts keep the shuffle and the
    private const ulong ExampleStream = 0x4578616D706CUL;  // per-example generators independent

    private ulong state;

    private ExampleRandom(ulong state) => this.state = state;

    /// <summary>The generator of an epoch's shuffle.</summary>
    public static ExampleRandom ForEpoch(int seed, int epoch) =>
        new(Mix(Mix(Mix((ulong)(uint)seed ^ EpochStream) + (ulong)(uint)epoch)));

    /// <summary>The generator of the example at <paramref name="position"/> of an epoch's order.</summary>
    public static ExampleRandom ForExample(int seed, int epoch, int position) =>
        new(Mix(Mix(Mix((ulong)(uint)seed ^ ExampleStream) + (ulong)(uint)epoch) + (ulong)(uint)position));

    public ulong NextUInt64()
    {
        state += Golden;
        return Mix(state);
    }

    /// <summary>Uniform in [0, maxExclusive); the 64x64-bit multiply keeps the bias below 2^-32.</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return (int)(((UInt128)NextUInt64() * (ulong)maxExclusive) >> 64);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
