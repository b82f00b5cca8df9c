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
        // The headers are longer than a WAV file's (Vorbis codebooks, ID3 tags), and so are the ranges changed.
        var mutator = new ByteMutator { HeaderBytes = 256, MaxRange = 256, MaxNoise = 64, Fields = Fields, BigEndianFields = BigEndianFields };
        var mutated = Gen.Select(Gen.Int[0, seeds.Count - 1], mutator.Generator(EdgeValues).Array[1, 4], Gen.Bool, (s, ms, repair) =>
        {
            var bytes = ms.Aggregate(seeds[s].Bytes, mutator.Apply);
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
}
