using System.Buffers.Binary;
using CsCheck;
using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Audio;
using static EnvNet.Tests.Esc50TestData;

namespace EnvNet.Tests;

/// <summary>
/// Fuzzes <see cref="WavDecoder"/> and <see cref="ClipPreprocessor"/> with CsCheck: stacked mutations (byte and bit
/// flips, truncations, header fields set to edge values, chunks inserted with any declared size, ranges removed,
/// duplicated or overwritten) of three real ESC-10 clips of tests/data and of small generated files of every
/// encoding, plus random bytes and random headers. Every input must decode to sane audio or get a <see cref="DatasetException"/>
/// naming it, within the time and memory bounds of <see cref="FuzzHarness"/>. The seed changes every run; a failure
/// prints the seed and the shrunk input that reproduce it.
/// </summary>
[TestClass]
public sealed class FuzzWavTests
{
    private const int Inputs = 7_000;
    private const int PreprocessMaxBytes = 16 << 10; // decoded inputs up to this size also go through resampling
    private const int PreprocessRate = 16_000;

    private static readonly uint[] EdgeValues =
    [
        0, 1, 2, 3, 4, 6, 7, 8, 12, 15, 16, 17, 18, 20, 22, 24, 32, 40, 48, 63, 64, 65, 100, 255, 256, 999, 1000,
        16000, 44100, 65534, 65535, 65536, 0x7FFF, 0x8000, 0xFFFE, 1_000_000, 1_000_001, 0x7FFFFFFF, 0x80000000,
        0xFFFFFFF0, 0xFFFFFFFE, 0xFFFFFFFF,
    ];

    private static readonly string[] ChunkIds = ["fmt ", "data", "LIST", "fact", "JUNK", "RIFF", "WAVE", "\0\0\0\0"];

    /// <summary>Offset and width of each fmt chunk field after the chunk's 8-byte header: format tag, channels,
    /// sample rate, byte rate, block align, bits per sample, extra size, valid bits, channel mask, sub-format.</summary>
    private static readonly (int Offset, int Width)[] FmtFields =
        [(0, 2), (2, 2), (4, 4), (8, 4), (12, 2), (14, 2), (16, 2), (18, 2), (20, 4), (24, 4)];

    public TestContext TestContext { get; set; } = null!;

    /// <summary>The format's own mutation (<see cref="ByteMutator.Kind.FormatSpecific"/>) inserts a chunk.</summary>
    private static readonly ByteMutator Mutator = new() { HeaderBytes = 64, MaxRange = 64, MaxNoise = 16, Fields = HeaderFields, FormatSpecific = InsertAnyChunk };

    private sealed record WavInput(string Description, byte[] Bytes);

    [TestMethod]
    public void MutatedAndRandomWavFilesDecodeOrGetClearErrors()
    {
        var seeds = SeedFiles();
        var edgeOrAny = Gen.Frequency((3, Gen.OneOf(EdgeValues)), (1, Gen.UInt));
        var mutated = Gen.Select(Gen.Int[0, seeds.Count - 1], Mutator.Generator(EdgeValues).Array[1, 4], (s, ms) =>
            new WavInput($"{seeds[s].Name} with {string.Join(", ", ms.AsEnumerable())}", ms.Aggregate(seeds[s].Bytes, Mutator.Apply)));
        var randomBytes = Gen.Select(Gen.Bool, Gen.Byte.Array[0, 600], (riff, bytes) => riff
            ? new WavInput($"RIFF/WAVE and {bytes.Length} random bytes", [.. "RIFF"u8, .. Le32((uint)bytes.Length + 4), .. "WAVE"u8, .. bytes])
            : new WavInput($"{bytes.Length} random bytes", bytes));
        var randomHeader = Gen.Select(
            Gen.OneOf<short>(FormatPcm, FormatFloat, FormatExtensible, 2, 6, 0), Gen.Int[0, 70], edgeOrAny,
            Gen.OneOf(0, 1, 4, 8, 12, 16, 20, 24, 32, 48, 64), Gen.Byte.Array[0, 2000],
            (tag, channels, rate, bits, data) => new WavInput(
                $"header tag {tag}, {channels} channels, {rate} Hz, {bits} bits, {data.Length} data bytes",
                Wav(data, channels, (int)rate, tag, bits, tag == FormatExtensible ? SubFormatPcm : null)));
        var inputs = Gen.Frequency((14, mutated), (3, randomBytes), (3, randomHeader));

        using var scratch = new TempDir();
        int decoded = 0, rejected = 0, preprocessed = 0;
        inputs.Sample(input =>
        {
            var name = $"fuzz-{input.Bytes.Length}.wav";
            var (audio, error) = FuzzHarness.Run(input.Description, 16L * input.Bytes.Length + (16 << 20), () => WavDecoder.Decode(input.Bytes, name));
            if (error is not null)
            {
                FuzzHarness.AssertClearMessage(error.Message, $"{name}: ", input.Description);
                Interlocked.Increment(ref rejected);
                return;
            }
            CheckDecoded(audio!, input);
            Interlocked.Increment(ref decoded);
            if (input.Bytes.Length <= PreprocessMaxBytes)
            {
                CheckPreprocessed(input, audio!, scratch);
                Interlocked.Increment(ref preprocessed);
            }
        }, iter: Inputs, threads: 1, print: input => input.Description);

        FuzzHarness.Report(TestContext,
            $"fuzzed {decoded + rejected} WAV inputs: {decoded} decoded ({preprocessed} of them also resampled), {rejected} rejected");
        Assert.AreEqual(Inputs, decoded + rejected);
        Assert.IsTrue(decoded > Inputs / 20 && rejected > Inputs / 20, "the inputs should mix decodable and broken files");
    }

    // Inputs the fuzzer found, kept as fixed cases. Before the fixes: float data beyond full scale came out of the
    // decoder unclipped, and two loud float channels summed to infinity in the downmix; a PCM fmt chunk with 104 extra
    // bytes, or a chunk inserted without updating the RIFF size, made a readable file fail; and damaged chunk
    // structures were reported in NAudio's words, often wrongly ("No data chunk found" for a data chunk behind an
    // oversized LIST chunk, "Stream length must be non-negative...", "Invalid WaveFormat Structure").
    [TestMethod]
    public void FuzzFindingsStayFixed()
    {
        var loud = WavDecoder.Decode(Wav(MonoFrames([0.5f, 5f, -7f]), 16000, FormatFloat, 32), "loud.wav");
        CollectionAssert.AreEqual(new[] { 0.5f, 1f, -1f }, loud.Samples);
        var loudStereo = WavDecoder.Decode(Wav(new float[1, 2] { { 3e38f, 3e38f } }, 16000, FormatFloat, 32), "loud-stereo.wav");
        CollectionAssert.AreEqual(new[] { 1f }, loudStereo.Samples);

        var good = Wav(MonoFrames([0.1f, -0.2f, 0.3f]), 16000, FormatPcm, 16); // fmt chunk at byte 12, data at byte 36
        var longFmt = good.ToArray();
        longFmt[16] = 120;
        longFmt = [.. longFmt.AsSpan(0, 36), .. new byte[104], .. longFmt.AsSpan(36)];
        Assert.AreEqual(3, WavDecoder.Decode(longFmt, "long-fmt.wav").Samples.Length);
        var uncounted = InsertChunk(good, 36, "\u00ff\u00fe\u0080\u0081", 2, [1, 2]); // the RIFF size still says 42 bytes
        Assert.AreEqual(3, WavDecoder.Decode(uncounted, "uncounted-chunk.wav").Samples.Length);

        var hugeData = good.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(hugeData.AsSpan(40), 0x7FFFFFF0);
        var shortFmt = good.ToArray();
        shortFmt[16] = 10;
        var shortExtensible = Wav(MonoFrames([0.1f]), 16000, FormatExtensible, 16, SubFormatPcm);
        BinaryPrimitives.WriteUInt32LittleEndian(shortExtensible.AsSpan(16), 18);
        var cases = new (string Expected, byte[] Bytes)[]
        {
            ("sample 1 (channel 0) is Infinity, expected a finite float within the float32 range",
                Wav([.. BitConverter.GetBytes(0.5), .. BitConverter.GetBytes(1e300)], 1, 16000, FormatFloat, 64)),
            ("malformed WAV header ('LIST' chunk at byte 36 declares 4294967280 bytes, the file holds 14 after its header)",
                InsertChunk(good, 36, "LIST", 0xFFFFFFF0, [])),
            ("truncated data chunk: the header declares 2147483632 bytes of audio, the file holds 6", hugeData),
            ("malformed WAV header (fmt chunk at byte 12 has 10 bytes, expected at least 16)", shortFmt),
            ("malformed WAVE_FORMAT_EXTENSIBLE fmt chunk: 18 bytes with 22 extra bytes", shortExtensible),
            ("malformed WAV header (data chunk at byte 12 comes before any fmt chunk)", [.. good.AsSpan(0, 12), .. good.AsSpan(36)]),
        };
        foreach (var (expected, bytes) in cases)
            Assert.StartsWith($"bad.wav: {expected}", Assert.ThrowsExactly<DatasetException>(() => WavDecoder.Decode(bytes, "bad.wav")).Message);
    }

    private static void CheckDecoded(DecodedAudio audio, WavInput input)
    {
        Assert.IsTrue(audio.Samples.Length >= 1 && audio.Samples.Length <= input.Bytes.Length,
            $"{input.Description}: {audio.Samples.Length} samples from {input.Bytes.Length} bytes");
        Assert.IsTrue(audio.SampleRate is >= AudioDecoder.MinSampleRate and <= AudioDecoder.MaxSampleRate, $"{input.Description}: rate {audio.SampleRate}");
        Assert.IsTrue(audio.Channels is >= 1 and <= AudioDecoder.MaxChannels, $"{input.Description}: {audio.Channels} channels");
        int bad = Array.FindIndex(audio.Samples, s => !(s >= -1 && s <= 1));
        Assert.AreEqual(-1, bad, $"{input.Description}: sample {bad} is {(bad >= 0 ? audio.Samples[bad] : 0)}, outside [-1, 1]");
    }

    /// <summary>The product's path from a file: decode, trim silence, resample to 16 kHz.</summary>
    private static void CheckPreprocessed(WavInput input, DecodedAudio audio, TempDir scratch)
    {
        var path = scratch.Sub("clip.wav");
        File.WriteAllBytes(path, input.Bytes);
        long expectedLength = (long)audio.Samples.Length * PreprocessRate / audio.SampleRate;
        var (samples, error) = FuzzHarness.Run(input.Description, 64L * (expectedLength + input.Bytes.Length) + (32 << 20),
            () => ClipPreprocessor.Preprocess(path, PreprocessRate));
        if (error is not null)
        {
            FuzzHarness.AssertClearMessage(error.Message, $"{path}: ", input.Description);
            return;
        }
        Assert.IsTrue(samples!.Length >= 1 && samples.Length <= expectedLength + 2,
            $"{input.Description}: {samples.Length} samples at {PreprocessRate} Hz from {audio.Samples.Length} at {audio.SampleRate} Hz");
        int bad = Array.FindIndex(samples, s => !(s >= -1 && s <= 1));
        Assert.AreEqual(-1, bad, $"{input.Description}: resampled sample {bad} is outside [-1, 1]");
    }

    /// <summary>Three real clips and a small file of every encoding the decoder reads (one with an extra chunk).</summary>
    private static List<(string Name, byte[] Bytes)> SeedFiles()
    {
        var seeds = Directory.GetFiles(Path.Combine(SampleDir, "audio"), "*.wav").Order().Take(3)
            .Select(path => (Path.GetFileName(path), File.ReadAllBytes(path))).ToList();
        var rng = new Random(7);
        float[,] Frames(int count, int channels)
        {
            var frames = new float[count, channels];
            for (int f = 0; f < count; f++)
                for (int c = 0; c < channels; c++)
                    frames[f, c] = (float)Math.Sin(f * 0.07 * (c + 1)) * (float)rng.NextDouble();
            return frames;
        }
        seeds.Add(("pcm8-mono", Wav(Frames(300, 1), 8000, FormatPcm, 8)));
        seeds.Add(("pcm16-stereo", Wav(Frames(200, 2), 44100, FormatPcm, 16)));
        seeds.Add(("pcm24-mono", Wav(Frames(250, 1), 22050, FormatPcm, 24)));
        seeds.Add(("pcm32-3ch", Wav(Frames(120, 3), 48000, FormatPcm, 32)));
        seeds.Add(("float32-mono", Wav(Frames(300, 1), 16000, FormatFloat, 32)));
        seeds.Add(("float64-stereo", Wav(Frames(150, 2), 44100, FormatFloat, 64)));
        seeds.Add(("extensible-pcm16-6ch", Wav(Frames(80, 6), 48000, FormatExtensible, 16, SubFormatPcm)));
        seeds.Add(("extensible-pcm24-stereo", Wav(Frames(150, 2), 96000, FormatExtensible, 24, SubFormatPcm)));
        seeds.Add(("extensible-float32-mono", Wav(Frames(300, 1), 44100, FormatExtensible, 32, SubFormatFloat)));
        var withList = Wav(Frames(200, 1), 44100, FormatPcm, 16);
        seeds.Add(("pcm16-with-LIST", InsertChunk(withList, 36, "LIST", 13, [.. "INFOISFT\u0005\0\0\0x"u8])));
        return seeds;
    }

    /// <summary>A chunk of any id (fmt, data, LIST, ... or zeros) with any declared size and a short payload, inserted
    /// at the start of a chunk.</summary>
    private static byte[] InsertAnyChunk(byte[] bytes, ByteMutator.Mutation m)
    {
        var starts = ChunkStarts(bytes);
        var payload = new byte[Math.Min(m.Value, (m.Extra >> 8) % 48)];
        Array.Fill(payload, (byte)(m.Extra >> 16));
        return InsertChunk(bytes, starts[(int)(m.Where % starts.Count)], ChunkIds[m.Extra % ChunkIds.Length], m.Value, payload);
    }

    /// <summary>The RIFF size, every chunk size and every fmt field, found by walking the chunks as they are now.</summary>
    private static List<(int Offset, int Width)> HeaderFields(byte[] wav)
    {
        var fields = new List<(int, int)>();
        if (wav.Length >= 8)
            fields.Add((4, 4));
        foreach (var start in ChunkStarts(wav))
        {
            if (start + 8 > wav.Length)
                continue;
            fields.Add((start + 4, 4));
            if (wav.AsSpan(start, 4).SequenceEqual("fmt "u8))
                fields.AddRange(FmtFields.Where(f => start + 8 + f.Offset + f.Width <= wav.Length).Select(f => (start + 8 + f.Offset, f.Width)));
        }
        return fields;
    }

    /// <summary>Where each chunk starts (after the 12-byte RIFF header), and the end of the last one.</summary>
    private static List<int> ChunkStarts(byte[] wav)
    {
        var starts = new List<int> { Math.Min(12, wav.Length) };
        for (long at = 12; at + 8 <= wav.Length && starts.Count < 32;)
        {
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(wav.AsSpan((int)at + 4));
            at += 8L + size + (size & 1);
            if (at > wav.Length)
                break;
            starts.Add((int)at);
        }
        return starts;
    }

    private static byte[] InsertChunk(byte[] wav, int at, string id, uint declaredSize, byte[] payload) =>
        [.. wav.AsSpan(0, at), .. id.Select(c => (byte)c), .. Le32(declaredSize), .. payload, .. wav.AsSpan(at)];

    private static byte[] Le32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }
}
