using NVorbis;

namespace EnvNet.Esc50Dataset.Audio;

/// <summary>
/// Reads Ogg Vorbis files with NVorbis (the original ESC-50 was distributed as Ogg Vorbis): any channel count
/// (averaged to mono), any rate. The first page is checked to hold a Vorbis stream before NVorbis sees the file, so
/// an Ogg file of another codec is named as such, and the sizes its headers declare are checked
/// (<see cref="VorbisHeaderCheck"/>) before NVorbis allocates them; the output is read in blocks up to the sample limit, whatever
/// length the stream declares; an error from inside NVorbis is reported as a damaged file naming it.
/// </summary>
public static class OggVorbisDecoder
{
    public const string FormatName = "Ogg Vorbis";

    private const int PageHeaderBytes = 27;
    private static readonly byte[] VorbisIdentification = [1, .. "vorbis"u8];
    private static readonly byte[] FlacMapping = [0x7F, .. "FLAC"u8];

    /// <summary>Whether the bytes start like an Ogg file (a page with its capture pattern "OggS").</summary>
    public static bool HasSignature(ReadOnlySpan<byte> head) => head.StartsWith("OggS"u8);

    /// <summary>The most samples (all channels together) the Vorbis packets of <paramref name="bytes"/> can decode to
    /// (<see cref="VorbisHeaderCheck.MaxSamples"/>): a longer output is a damaged stream, and decoding takes memory in
    /// proportion to this bound, never to a size the file declares.</summary>
    public static long MaxSamples(byte[] bytes) => VorbisHeaderCheck.MaxSamples(bytes);

    public static DecodedAudio Decode(byte[] bytes, string name)
    {
        if (!HasSignature(bytes))
            throw new DatasetException($"{name}: not an Ogg file (expected 'OggS' at byte 0)");
        CheckFirstPacketIsVorbis(bytes, name);
        VorbisHeaderCheck.Check(bytes, name);
        try
        {
            var (unflagged, endGranule) = VorbisHeaderCheck.WithoutEndOfStream(bytes);
            using var reader = new VorbisReader(new BoundedReadStream(unflagged, name, FormatName), closeOnDispose: true);
            InterleavedSamples.CheckLayout(reader.Channels, reader.SampleRate, name);
            // The encoder pads the last packet to a whole block; the last granule position says where the sound ends.
            var interleaved = InterleavedSamples.ReadAll(reader.ReadSamples, reader.Channels, MaxSamples(bytes), name, FormatName,
                frames => endGranule > 0 && endGranule < frames && frames - endGranule <= VorbisHeaderCheck.MaxBlockSize / 2 ? endGranule : frames);
            InterleavedSamples.ClampFinite(interleaved, reader.Channels, name);
            return new DecodedAudio(InterleavedSamples.Downmix(interleaved, reader.Channels), reader.SampleRate, reader.Channels, FormatName);
        }
        catch (Exception e) when (LibraryFailure.IsDamage(e))
        {
            throw LibraryFailure.Damaged(name, FormatName, e);
        }
    }

    /// <summary>The first packet of an Ogg Vorbis file is the Vorbis identification header, right after the first
    /// page's header and segment table.</summary>
    private static void CheckFirstPacketIsVorbis(byte[] bytes, string name)
    {
        if (bytes.Length < PageHeaderBytes)
            throw new DatasetException($"{name}: truncated Ogg page header ({bytes.Length} bytes, expected at least {PageHeaderBytes})");
        int packet = PageHeaderBytes + bytes[PageHeaderBytes - 1];
        var first = bytes.AsSpan(Math.Min(packet, bytes.Length));
        if (first.StartsWith(VorbisIdentification))
            return;
        string codec = first.StartsWith("OpusHead"u8) ? "Opus" : first.StartsWith(FlacMapping) ? "FLAC" : first.StartsWith("Speex"u8) ? "Speex" : "unknown";
        throw new DatasetException($"{name}: the Ogg file's first stream holds {codec} data, expected {FormatName}");
    }
}
