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

    public static DecodedAudio Decode(byte[] bytes, string name)
    {
        if (!HasSignature(bytes))
            throw new DatasetException($"{name}: not an MP3 file (expected an ID3v2 tag or an MPEG audio frame header at byte 0)");
        try
        {
            using var mpeg = new MpegFile(new MemoryStream(bytes, writable: false));
            InterleavedSamples.CheckLayout(mpeg.Channels, mpeg.SampleRate, name);
            var interleaved = InterleavedSamples.ReadAll(mpeg.ReadSamples, mpeg.Channels, name, FormatName);
            InterleavedSamples.ClampFinite(interleaved, mpeg.Channels, name);
            return new DecodedAudio(InterleavedSamples.Downmix(interleaved, mpeg.Channels), mpeg.SampleRate, mpeg.Channels, FormatName);
        }
        catch (Exception e) when (LibraryFailure.IsDamage(e))
        {
            throw LibraryFailure.Damaged(name, FormatName, e);
        }
    }
}
