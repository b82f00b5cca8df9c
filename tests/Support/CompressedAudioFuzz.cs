using CsCheck;
using EnvNet.Esc50Dataset.Audio;

namespace EnvNet.Tests;

/// <summary>
/// The fuzzing shared by the compressed formats (FuzzOggTests, FuzzMp3Tests): stacked mutations of real files
/// (byte and bit flips, truncations, header fields the format declares set to edge values such as 0 and 2^32 - 1,
/// ranges removed, duplicated or overwritten with noise), the format's signature followed by random bytes, and plain
/// random bytes. Every input must decode to sane audio or get a <see cref="DatasetException"/> naming it, within the
/// time and memory bounds of <see cref="FuzzHarness"/>. The seed changes every run; a failure prints the seed and
/// the shrunk input that reproduce it.
/// </summary>
internal sealed class CompressedAudioFuzz
{
    public static readonly uint[] EdgeValues =
    [
        0, 1, 2, 3, 7, 8, 15, 16, 64, 127, 128, 255, 256, 1000, 8000, 22050, 44100, 48000, 65535, 65536, 0x7FFFFFFF,
        0x80000000, 0xFFFFFFFE, 0xFFFFFFFF,
    ];

    public enum MutationKind { SetByte, FlipBit, Truncate, HeaderField, RemoveRange, DuplicateRange, OverwriteRange }

    public sealed record Mutation(MutationKind Kind, uint Where, uint Extra, uint Value)
    {
        public override string ToString() => $"{Kind}(where {Where}, extra {Extra}, value {Value})";
    }

    public sealed record Input(string Description, byte[] Bytes);

    /// <summary>The format's name for the tally, its seed files, where its declared fields are (offset and width in
    /// bytes, little- or big-endian as <paramref name="bigEndianFields"/> says), how to make a mutated file
    /// consistent again (a checksum) where the format has one, and its decoder.</summary>
    public required string FormatName { get; init; }
    public required IReadOnlyList<(string Name, byte[] Bytes)> Seeds { get; init; }
    public required Func<byte[], List<(int Offset, int Width)>> Fields { get; init; }
    public required bool BigEndianFields { get; init; }
    public required byte[] Signature { get; init; }
    public required string Extension { get; init; }
    public Func<byte[], byte[]> Repair { get; init; } = bytes => bytes;
    public required Func<byte[], string, DecodedAudio> Decode { get; init; }

    /// <summary>The most samples the decoder lets a file decode to (the format's <c>MaxSamples(bytes)</c>, from the
    /// packets or frames the file holds): a few bytes of Vorbis can be a long block of silence, so the memory a
    /// decoder may take follows from this bound, not from the file's size.</summary>
    public required Func<byte[], long> MaxSamples { get; init; }

    /// <summary>Allocated bytes per sample allowed: the decoded chunks, the whole clip, its mono mix and the library's
    /// own buffers, each about one float per sample.</summary>
    private const long BytesPerAllowedSample = 4 * sizeof(float);
    private const long BaseAllocation = 64 << 20;

    public void Run(TestContext context, int inputs)
    {
        var seeds = Seeds;
        var edgeOrAny = Gen.Frequency((3, Gen.OneOf(EdgeValues)), (1, Gen.UInt));
        var mutation = Gen.Select(Gen.Enum<MutationKind>(), Gen.UInt, Gen.UInt, edgeOrAny, (k, w, e, v) => new Mutation(k, w, e, v));
        var mutated = Gen.Select(Gen.Int[0, seeds.Count - 1], mutation.Array[1, 4], Gen.Bool, (s, ms, repair) =>
        {
            var bytes = ms.Aggregate(seeds[s].Bytes, Apply);
            return new Input($"{seeds[s].Name} with {string.Join(", ", ms.AsEnumerable())}{(repair ? ", repaired" : "")}", repair ? Repair(bytes) : bytes);
        });
        var randomBytes = Gen.Select(Gen.Bool, Gen.Byte.Array[0, 3000], (signed, bytes) => signed
            ? new Input($"the signature and {bytes.Length} random bytes", [.. Signature, .. bytes])
            : new Input($"{bytes.Length} random bytes", bytes));
        var all = Gen.Frequency((8, mutated), (2, randomBytes));

        int decoded = 0, rejected = 0;
        all.Sample(input =>
        {
            var name = $"fuzz-{input.Bytes.Length}{Extension}";
            long allowed = Math.Min(Esc50Dataset.AudioDecoder.MaxSamples, MaxSamples(input.Bytes));
            var (audio, error) = FuzzHarness.Run(input.Description, BaseAllocation + BytesPerAllowedSample * allowed, () => Decode(input.Bytes, name));
            if (error is not null)
            {
                FuzzHarness.AssertClearMessage(error.Message, $"{name}: ", input.Description);
                Interlocked.Increment(ref rejected);
                return;
            }
            CheckDecoded(audio!, input);
            Interlocked.Increment(ref decoded);
        }, iter: inputs, threads: 1, print: input => input.Description);

        FuzzHarness.Report(context, $"fuzzed {decoded + rejected} {FormatName} inputs: {decoded} decoded, {rejected} rejected");
        Assert.AreEqual(inputs, decoded + rejected);
        // The headers (the Vorbis codebooks, the ID3 tag) are most of a half-second file, and a change there breaks it:
        // fewer mutated files decode than WAV files do.
        Assert.IsTrue(decoded > inputs / 50 && rejected > inputs / 50, $"the inputs should mix decodable and broken files: {decoded} decoded, {rejected} rejected");
    }

    private static void CheckDecoded(DecodedAudio audio, Input input)
    {
        Assert.IsGreaterThanOrEqualTo(1, audio.Samples.Length, input.Description);
        Assert.IsTrue(audio.SampleRate is >= Esc50Dataset.AudioDecoder.MinSampleRate and <= Esc50Dataset.AudioDecoder.MaxSampleRate,
            $"{input.Description}: rate {audio.SampleRate}");
        Assert.IsTrue(audio.Channels is >= 1 and <= Esc50Dataset.AudioDecoder.MaxChannels, $"{input.Description}: {audio.Channels} channels");
        int bad = Array.FindIndex(audio.Samples, s => !(s >= -1 && s <= 1));
        Assert.AreEqual(-1, bad, $"{input.Description}: sample {bad} is {(bad >= 0 ? audio.Samples[bad] : 0)}, outside [-1, 1]");
    }

    private byte[] Apply(byte[] original, Mutation m)
    {
        var bytes = original.ToArray();
        switch (m.Kind)
        {
            case MutationKind.SetByte when bytes.Length > 0:
                bytes[Position(bytes, m)] = (byte)m.Value;
                return bytes;
            case MutationKind.FlipBit when bytes.Length > 0:
                bytes[Position(bytes, m)] ^= (byte)(1 << (int)(m.Value % 8));
                return bytes;
            case MutationKind.Truncate:
                return bytes[..(int)(m.Where % (bytes.Length + 1))];
            case MutationKind.HeaderField:
                var fields = Fields(bytes);
                if (fields.Count == 0)
                    return bytes;
                var (offset, width) = fields[(int)(m.Where % fields.Count)];
                for (int b = 0; b < width; b++)
                    bytes[offset + (BigEndianFields ? width - 1 - b : b)] = (byte)(m.Value >> (8 * b));
                return bytes;
            case MutationKind.RemoveRange when bytes.Length > 0:
                int from = Position(bytes, m), removed = (int)Math.Min(m.Value % 256 + 1, bytes.Length - from);
                return [.. bytes.AsSpan(0, from), .. bytes.AsSpan(from + removed)];
            case MutationKind.DuplicateRange when bytes.Length > 0:
                int start = Position(bytes, m), copied = (int)Math.Min(m.Value % 256 + 1, bytes.Length - start);
                return [.. bytes.AsSpan(0, start + copied), .. bytes.AsSpan(start)];
            case MutationKind.OverwriteRange when bytes.Length > 0:
                var noise = new Random((int)m.Extra);
                int at = Position(bytes, m);
                noise.NextBytes(bytes.AsSpan(at, (int)Math.Min(m.Value % 64 + 1, bytes.Length - at)));
                return bytes;
            default:
                return bytes;
        }
    }

    /// <summary>Half the positions fall in the first 256 bytes (the headers), where a change matters most.</summary>
    private static int Position(byte[] bytes, Mutation m) =>
        (int)(m.Where % (uint)((m.Extra & 1) == 0 ? Math.Min(bytes.Length, 256) : bytes.Length));
}
