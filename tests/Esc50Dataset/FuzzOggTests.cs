using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Audio;

namespace EnvNet.Tests;

/// <summary>
/// Fuzzes <see cref="OggVorbisDecoder"/> (NVorbis behind it) with <see cref="CompressedAudioFuzz"/>: the Ogg Vorbis
/// files of tests/data/audio mutated, with every page's granule position, sequence number, segment count and
/// lacing values and the Vorbis identification header's channels, rate and block sizes among the fields set to edge
/// values; half the mutated files get their page checksums recomputed, so the damage reaches the Vorbis decoder
/// instead of stopping at Ogg's CRC check.
/// </summary>
[TestClass]
public sealed class FuzzOggTests
{
    private const int Inputs = 2_000;
    private const int PageHeaderBytes = 27;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MutatedAndRandomOggFilesDecodeOrGetClearErrors() => new CompressedAudioFuzz
    {
        FormatName = OggVorbisDecoder.FormatName,
        Seeds = [.. new[] { AudioDecoderTests.OggMono, AudioDecoderTests.OggStereo }
            .Select(name => (name, File.ReadAllBytes(Path.Combine(AudioDecoderTests.AudioDir, name))))],
        Fields = Fields,
        BigEndianFields = false,
        Signature = "OggS"u8.ToArray(),
        Extension = ".ogg",
        Repair = RecomputeChecksums,
        Decode = OggVorbisDecoder.Decode,
        MaxSamples = OggVorbisDecoder.MaxSamples,
    }.Run(TestContext, Inputs);

    /// <summary>A page claiming a huge granule position or segment sizes beyond the file, and streams cut short.</summary>
    [TestMethod]
    public void DamagedOggFilesGetClearErrors()
    {
        var good = File.ReadAllBytes(Path.Combine(AudioDecoderTests.AudioDir, AudioDecoderTests.OggMono));
        var cases = new (string Name, byte[] Bytes)[]
        {
            ("header only", good[..PageHeaderBytes]),
            ("cut in the first page", good[..40]),
            ("no audio pages", good[..PageStarts(good)[2]]),
            ("zero channels", RecomputeChecksums(Set(good, IdentificationHeader(good) + 11, 0))),
            ("an empty packet where the comment header was, and the comment count beyond it", EmptyPacketBeforeOverlongComments(good)),
            // Found by the fuzzing (seed 2jkyVQFsl991): a page NVorbis resyncs on at the end of the file for ever.
            ("damaged/resync-loop.ogg", File.ReadAllBytes(Path.Combine(AudioDecoderTests.AudioDir, "damaged", "resync-loop.ogg"))),
        };
        foreach (var (name, bytes) in cases)
        {
            var (audio, error) = FuzzHarness.Run(name, 64 << 20, () => OggVorbisDecoder.Decode(bytes, "bad.ogg"));
            Assert.IsNull(audio, name);
            FuzzHarness.AssertClearMessage(error!.Message, "bad.ogg: ", name);
        }
    }

    /// <summary>The second page's first lacing value set to 0: NVorbis drops the empty packet and reads the comment
    /// and setup headers together as the comment header, so a comment count beyond the comments makes it read setup
    /// bytes as a comment's length (up to 2 GiB, allocated before reading).</summary>
    private static byte[] EmptyPacketBeforeOverlongComments(byte[] good)
    {
        int page = PageStarts(good)[1], comments = page + PageHeaderBytes + good[page + 26];
        int vendorLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(good.AsSpan(comments + 7));
        var bytes = Set(good, page + PageHeaderBytes, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(comments + 11 + vendorLength), 100);
        return RecomputeChecksums(bytes);
    }

    private static byte[] Set(byte[] bytes, int at, byte value)
    {
        var copy = bytes.ToArray();
        copy[at] = value;
        return copy;
    }

    private static List<int> PageStarts(byte[] ogg)
    {
        var starts = new List<int>();
        for (int at = 0; at + PageHeaderBytes <= ogg.Length; at++)
            if (ogg.AsSpan(at).StartsWith("OggS"u8))
                starts.Add(at);
        return starts;
    }

    /// <summary>The first packet: right after the first page's header and its segment table.</summary>
    private static int IdentificationHeader(byte[] ogg) => PageHeaderBytes + ogg[PageHeaderBytes - 1];

    private static List<(int Offset, int Width)> Fields(byte[] ogg)
    {
        var fields = new List<(int, int)>();
        foreach (var page in PageStarts(ogg))
        {
            fields.Add((page + 5, 1));  // header type: continued, first, last page
            fields.Add((page + 6, 8));  // granule position
            fields.Add((page + 18, 4)); // page sequence number
            fields.Add((page + 26, 1)); // segment count
            int segments = ogg[page + 26];
            for (int s = 0; s < Math.Min(segments, 4) && page + PageHeaderBytes + s < ogg.Length; s++)
                fields.Add((page + PageHeaderBytes + s, 1)); // lacing values: the packet sizes
        }
        int id = ogg.Length > PageHeaderBytes ? IdentificationHeader(ogg) : ogg.Length;
        if (id + 30 <= ogg.Length)
            fields.AddRange([(id + 11, 1), (id + 12, 4), (id + 16, 4), (id + 20, 4), (id + 28, 1)]); // channels, rate, bitrates, block sizes
        return fields;
    }

    /// <summary>Ogg's page checksum (over the page with its CRC field zero) recomputed for every page whose declared
    /// length fits the file.</summary>
    private static byte[] RecomputeChecksums(byte[] ogg)
    {
        var bytes = ogg.ToArray();
        foreach (var page in PageStarts(bytes))
        {
            int segments = bytes[page + 26], tableEnd = page + PageHeaderBytes + segments;
            if (tableEnd > bytes.Length)
                continue;
            int bodyBytes = 0;
            for (int s = 0; s < segments; s++)
                bodyBytes += bytes[page + PageHeaderBytes + s];
            if (tableEnd + bodyBytes > bytes.Length)
                continue;
            bytes.AsSpan(page + 22, 4).Clear();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(page + 22), VorbisHeaderCheck.OggCrc(bytes.AsSpan(page, tableEnd + bodyBytes - page)));
        }
        return bytes;
    }
}
