using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

public interface IDropoutOps
{
    /// <summary>output[i] = input[i]·mask(i)·scale for i &lt; args.Length (forward and backward alike).</summary>
    void ApplyMask(ArrayView<float> input, ArrayView<float> output, DropoutArgs args);
}

/// <summary>Four 32-bit random words: one Philox block.</summary>
public readonly record struct PhiloxBlock(uint X0, uint X1, uint X2, uint X3);

/// <summary>
/// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the counter-based
/// generator of Random123, cuRAND and PyTorch's CUDA dropout. It is a keyed bijection of a 128-bit counter, so
/// distinct counters never share a stream (no overlap to argue about, unlike hashing a sum of seed and index),
/// 10 rounds pass BigCrush with margin, and one call costs 20 integer multiplies with no state in memory:
/// forward and backward recompute the same bits from (seed, step, index). Runs on the host and in kernels.
/// </summary>
public static class Philox
{
    private const uint Multiplier0 = 0xD2511F53;
    private const uint Multiplier1 = 0xCD9E8D57;
    private const uint KeyStep0 = 0x9E3779B9;
    private const uint KeyStep1 = 0xBB67AE85;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PhiloxBlock Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (var round = 0; round < 10; round++)
        {
            var product0 = (ulong)Multiplier0 * c0;
            var product1 = (ulong)Multiplier1 * c2;
            var hi0 = (uint)(product0 >> 32);
            var hi1 = (uint)(product1 >> 32);
            c0 = hi1 ^ c1 ^ k0;
            c1 = (uint)product1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = (uint)product0;
            k0 += KeyStep0;
            k1 += KeyStep1;
        }
        return new PhiloxBlock(c0, c1, c2, c3);
    }
}

/// <summary>
/// What one dropout pass needs: the mask of element i is a pure function of (seed, step, i). Element i draws word
/// i % 4 of the Philox block with counter (i / 4, 0, step, step >> 32) and key (seed, seed >> 32), and is kept
/// when the word is at least <see cref="DropThreshold"/> = round(p·2^32), which happens with probability 1 − p
/// exactly for p = 0.5. Kept values are scaled by 1/(1 − p) (inverted dropout, as PyTorch), so eval is identity.
/// </summary>
public readonly struct DropoutArgs
{
    public readonly int Length;
    public readonly uint DropThreshold;
    public readonly float Scale;
    public readonly uint SeedLow, SeedHigh, StepLow, StepHigh;

    public DropoutArgs(int length, float probability, ulong seed, ulong step)
    {
        if (!(probability >= 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), $"Dropout probability must be in [0, 1), got {probability}.");
        Length = length;
        DropThreshold = (uint)Math.Round(probability * 4294967296.0);
        Scale = 1f / (1f - probability);
        SeedLow = (uint)seed;
        SeedHigh = (uint)(seed >> 32);
        StepLow = (uint)step;
        StepHigh = (uint)(step >> 32);
    }

    /// <summary>Whether element <paramref name="index"/> survives: the host mirror of the kernel's mask.</summary>
    public bool Keeps(int index)
    {
        var block = Philox.Generate((uint)(index / 4), 0, StepLow, StepHigh, SeedLow, SeedHigh);
        return Word(block, index % 4) >= DropThreshold;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Word(PhiloxBlock block, int lane) =>
        lane == 0 ? block.X0 : lane == 1 ? block.X1 : lane == 2 ? block.X2 : block.X3;
}
