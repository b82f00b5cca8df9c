using NLayer;

namespace EnvNet.Esc50Dataset.Audio;

/// <summary>
/// Reads MP3 files (MPEG-1, -2 and -2.5 audio, layers I to III) with NLayer: mono or stereo (averaged to mono), the
/// rates MPEG defines. A file must begin with an ID3v2 tag or an MPEG audio frame header; the output is read in
/// blocks up to the sample limit, whatever length a Xing or VBRI header declares; an error from inside NLayer is
/// reported as a damaged file naming it.
/// </summary>
public static class Mp3Decoder
{
    public const string FormatName = "MP3";

    /// <summary>Whether the bytes start with an ID3v2 tag or an MPEG audio frame header: the 11-bit frame sync, a
    /// version other than the reserved one and a layer other than the reserved one (which also rules out AAC's
    /// ADTS headers, whose layer bits are zero).</summary>
    public static bool HasSignature(ReadOnlySpan<byte> head) =>
        head.StartsWith("ID3"u8)
        || (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0 && ((head[1] >> 3) & 3) != 1 && ((head[1] >> 1) & 3) != 0);

    /// <summary>An MPEG audio frame gives at most 1152 samples per channel, of at most two channels, and takes at least its
    /// 4-byte header.</summary>
    private const int MaxFramesPerFrame = 1152, MinFrameBytes = 4, MaxChannels = 2;
    private const int Id3HeaderBytes = 10;
    private const byte Id3FooterFlag = 0x10;

    public static DecodedAudio Decode(byte[] bytes, string name)
    {
        if (!HasSignature(bytes))
            throw new DatasetException($"{name}: not an MP3 file (expected an ID3v2 tag or an MPEG audio frame header at byte 0)");
        CheckId3Size(bytes, name);
        try
        {
            using var mpeg = new MpegFile(new BoundedReadStream(bytes, name, FormatName));
            InterleavedSamples.CheckLayout(mpeg.Channels, mpeg.SampleRate, name);
            var interleaved = InterleavedSamples.ReadAll(mpeg.ReadSamples, mpeg.Channels, MaxSamples(bytes), name, FormatName);
            InterleavedSamples.ClampFinite(interleaved, mpeg.Channels, name);
            return new DecodedAudio(InterleavedSamples.Downmix(interleaved, mpeg.Channels), mpeg.SampleRate, mpeg.Channels, FormatName);
        }
        catch (Exception e) when (LibraryFailure.IsDamage(e))
        {
            throw LibraryFailure.Damaged(name, FormatName, e);
        }
    }

    /// <summary>NLayer allocates the size an ID3v2 tag declares before reading it (up to 256 MiB): the size must be
    /// syncsafe (7 bits a byte) and the tag, with its footer when the flags say so, must fit in the file.</summary>
    private static void CheckId3Size(byte[] bytes, string name)
    {
        if (!bytes.AsSpan().StartsWith("ID3"u8))
            return;
        if (bytes.Length < Id3HeaderBytes)
            throw new DatasetException($"{name}: truncated ID3v2 tag ({bytes.Length} bytes, expected a {Id3HeaderBytes}-byte header)");
        var size = bytes.AsSpan(6, 4);
        if (size.ContainsAnyInRange((byte)0x80, (byte)0xFF))
            throw new DatasetException($"{name}: damaged ID3v2 tag (its size bytes {Convert.ToHexString(size)} are not syncsafe)");
        long tagBytes = Id3HeaderBytes + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3]) + ((bytes[5] & Id3FooterFlag) != 0 ? Id3HeaderBytes : 0);
        if (tagBytes > bytes.Length)
            throw new DatasetException($"{name}: damaged ID3v2 tag (it declares {tagBytes} bytes, the file holds {bytes.Length})");
    }

    /// <summary>The most samples (both channels together) the MPEG audio in <paramref name="bytes"/> can decode to: a
    /// longer output is a damaged stream, and decoding takes memory in proportion to this bound.</summary>
    public static long MaxSamples(byte[] bytes) => (bytes.Length / MinFrameBytes + 1) * MaxFramesPerFrame * MaxChannels;
}
