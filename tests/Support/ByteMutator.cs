using CsCheck;

namespace EnvNet.Tests;

/// <summary>
/// The mutations the binary fuzzers stack on real files (<see cref="FuzzWavTests"/>, <see cref="CompressedAudioFuzz"/>):
/// a byte set or a bit flipped, the file truncated, a field the format declares set to a value, a range removed,
/// duplicated or overwritten with noise, and, where the format has one, a mutation of its own (a WAV chunk inserted).
/// Half the positions fall in the first <see cref="HeaderBytes"/> bytes, where a change matters most.
/// </summary>
internal sealed class ByteMutator
{
    public enum Kind { SetByte, FlipBit, Truncate, HeaderField, RemoveRange, DuplicateRange, OverwriteRange, FormatSpecific }

    public sealed record Mutation(Kind Kind, uint Where, uint Extra, uint Value)
    {
        public override string ToString() => $"{Kind}(where {Where}, extra {Extra}, value {Value})";
    }

    public required int HeaderBytes { get; init; }
    /// <summary>The longest range removed or duplicated.</summary>
    public required int MaxRange { get; init; }
    /// <summary>The longest range overwritten with noise.</summary>
    public required int MaxNoise { get; init; }
    /// <summary>Where the fields the format declares are in a file as it is now (offset and width in bytes).</summary>
    public required Func<byte[], List<(int Offset, int Width)>> Fields { get; init; }
    public bool BigEndianFields { get; init; }
    /// <summary>The format's own mutation, drawn as <see cref="Kind.FormatSpecific"/>; none when null.</summary>
    public Func<byte[], Mutation, byte[]>? FormatSpecific { get; init; }

    /// <summary>Mutations of every kind the format has, their values drawn from <paramref name="edgeValues"/> three
    /// times in four.</summary>
    public Gen<Mutation> Generator(uint[] edgeValues)
    {
        var kinds = Enum.GetValues<Kind>().Where(k => k != Kind.FormatSpecific || FormatSpecific is not null).ToArray();
        var edgeOrAny = Gen.Frequency((3, Gen.OneOf(edgeValues)), (1, Gen.UInt));
        return Gen.Select(Gen.OneOf(kinds), Gen.UInt, Gen.UInt, edgeOrAny, (k, w, e, v) => new Mutation(k, w, e, v));
    }

    /// <summary>A mutated copy; the original is left as it was.</summary>
    public byte[] Apply(byte[] original, Mutation m)
    {
        var bytes = original.ToArray();
        switch (m.Kind)
        {
            case Kind.SetByte when bytes.Length > 0:
                bytes[Position(bytes, m)] = (byte)m.Value;
                return bytes;
            case Kind.FlipBit when bytes.Length > 0:
                bytes[Position(bytes, m)] ^= (byte)(1 << (int)(m.Value % 8));
                return bytes;
            case Kind.Truncate:
                return bytes[..(int)(m.Where % (bytes.Length + 1))];
            case Kind.HeaderField:
                var fields = Fields(bytes);
                if (fields.Count == 0)
                    return bytes;
                var (offset, width) = fields[(int)(m.Where % fields.Count)];
                for (int b = 0; b < width; b++)
                    bytes[offset + (BigEndianFields ? width - 1 - b : b)] = (byte)(m.Value >> (8 * b));
                return bytes;
            case Kind.RemoveRange when bytes.Length > 0:
                int from = Position(bytes, m), removed = (int)Math.Min(m.Value % MaxRange + 1, bytes.Length - from);
                return [.. bytes.AsSpan(0, from), .. bytes.AsSpan(from + removed)];
            case Kind.DuplicateRange when bytes.Length > 0:
                int start = Position(bytes, m), copied = (int)Math.Min(m.Value % MaxRange + 1, bytes.Length - start);
                return [.. bytes.AsSpan(0, start + copied), .. bytes.AsSpan(start)];
            case Kind.OverwriteRange when bytes.Length > 0:
                var noise = new Random((int)m.Extra);
                int at = Position(bytes, m);
                noise.NextBytes(bytes.AsSpan(at, (int)Math.Min(m.Value % MaxNoise + 1, bytes.Length - at)));
                return bytes;
            case Kind.FormatSpecific when FormatSpecific is not null:
                return FormatSpecific(bytes, m);
            default:
                return bytes;
        }
    }

    private int Position(byte[] bytes, Mutation m) =>
        (int)(m.Where % (uint)((m.Extra & 1) == 0 ? Math.Min(bytes.Length, HeaderBytes) : bytes.Length));
}
