using EnvNet.Esc50Dataset.Audio;

namespace EnvNet.Tests;

/// <summary>
/// Fuzzes <see cref="Mp3Decoder"/> (NLayer behind it) with <see cref="CompressedAudioFuzz"/>: the MP3 files of
/// tests/data/audio (one behind an ID3v2 tag, one starting with a frame) mutated, with the ID3v2 tag's size, the
/// first frame headers' bytes (version, layer, bit rate, sample rate, channel mode) and the Xing/Info header's frame
/// and byte counts among the fields set to edge values.
/// </summary>
[TestClass]
public sealed class FuzzMp3Tests
{
    private const int Inputs = 2_000;
    private const int HeaderFramesScanned = 8;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MutatedAndRandomMp3FilesDecodeOrGetClearErrors() => new CompressedAudioFuzz
    {
        FormatName = Mp3Decoder.FormatName,
        Seeds = [.. new[] { AudioDecoderTests.Mp3Mono, AudioDecoderTests.Mp3Stereo }
            .Select(name => (name, File.ReadAllBytes(Path.Combine(AudioDecoderTests.AudioDir, name))))],
        Fields = Fields,
        BigEndianFields = true,
        Signature = [0xFF, 0xFB, 0x90, 0x64],
        Extension = ".mp3",
        Decode = Mp3Decoder.Decode,
        MaxSamples = Mp3Decoder.MaxSamples,
    }.Run(TestContext, Inputs);

    /// <summary>An ID3v2 tag declaring more bytes than the file and a tag with nothing after it.</summary>
    [TestMethod]
    public void DamagedMp3FilesGetClearErrors()
    {
        var tagged = File.ReadAllBytes(Path.Combine(AudioDecoderTests.AudioDir, AudioDecoderTests.Mp3Mono));
        var hugeTag = tagged.ToArray();
        hugeTag.AsSpan(6, 4).Fill(0x7F); // syncsafe: 256 MiB
        int tagEnd = 10 + ((tagged[6] << 21) | (tagged[7] << 14) | (tagged[8] << 7) | tagged[9]);
        var cases = new (string Name, byte[] Bytes)[]
        {
            ("ID3v2 tag of 256 MiB", hugeTag),
            ("tag only", tagged[..tagEnd]),
            ("one frame header", tagged[..(tagEnd + 4)]),
        };
        foreach (var (name, bytes) in cases)
        {
            var (audio, error) = FuzzHarness.Run(name, 64 << 20, () => Mp3Decoder.Decode(bytes, "bad.mp3"));
            Assert.IsNull(audio, name);
            FuzzHarness.AssertClearMessage(error!.Message, "bad.mp3: ", name);
        }
    }

    private static List<(int Offset, int Width)> Fields(byte[] mp3)
    {
        var fields = new List<(int, int)>();
        int start = 0;
        if (mp3.AsSpan().StartsWith("ID3"u8) && mp3.Length >= 10)
        {
            fields.Add((6, 4)); // tag size (syncsafe)
            fields.Add((5, 1)); // flags
            start = 10 + ((mp3[6] & 0x7F) << 21 | (mp3[7] & 0x7F) << 14 | (mp3[8] & 0x7F) << 7 | (mp3[9] & 0x7F));
        }
        for (int at = start, found = 0; at + 4 <= mp3.Length && found < HeaderFramesScanned; at++)
            if (mp3[at] == 0xFF && (mp3[at + 1] & 0xE0) == 0xE0)
            {
                fields.AddRange([(at + 1, 1), (at + 2, 1), (at + 3, 1)]);
                found++;
            }
        foreach (var tag in new[] { "Xing"u8.ToArray(), "Info"u8.ToArray() })
            if (mp3.AsSpan().IndexOf(tag) is var xing and >= 0 && xing + 16 <= mp3.Length)
                fields.AddRange([(xing + 4, 4), (xing + 8, 4), (xing + 12, 4)]); // flags, frames, bytes
        return fields;
    }
}
