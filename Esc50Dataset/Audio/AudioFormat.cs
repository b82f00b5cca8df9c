namespace EnvNet.Esc50Dataset.Audio;

/// <summary>
/// A format the product reads: its name, the file name extensions that claim it, how its content begins and its
/// decoder. <see cref="All"/> is the one list of formats; <see cref="AudioDecoder"/> picks from it.
/// </summary>
public sealed class AudioFormat
{
    public static readonly AudioFormat Wav = new("WAV", [".wav"], WavDecoder.HasSignature, WavDecoder.Decode);
    public static readonly AudioFormat OggVorbis = new(OggVorbisDecoder.FormatName, [".ogg"], OggVorbisDecoder.HasSignature, OggVorbisDecoder.Decode);
    public static readonly AudioFormat Mp3 = new(Mp3Decoder.FormatName, [".mp3"], Mp3Decoder.HasSignature, Mp3Decoder.Decode);

    public static IReadOnlyList<AudioFormat> All { get; } = [Wav, OggVorbis, Mp3];

    private readonly SignatureTest _hasSignature;
    private readonly Func<byte[], string, DecodedAudio> _decode;

    private delegate bool SignatureTest(ReadOnlySpan<byte> head);

    private AudioFormat(string name, IReadOnlyList<string> extensions, SignatureTest hasSignature, Func<byte[], string, DecodedAudio> decode)
    {
        Name = name;
        Extensions = extensions;
        _hasSignature = hasSignature;
        _decode = decode;
    }

    public string Name { get; }

    /// <summary>Lower case with the dot.</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>The format an extension claims (case-insensitive), or null.</summary>
    public static AudioFormat? ByExtension(string path) =>
        All.FirstOrDefault(f => f.Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase));

    /// <summary>The format whose signature the bytes begin with, or null.</summary>
    public static AudioFormat? ByContent(ReadOnlySpan<byte> bytes)
    {
        foreach (var format in All)
            if (format._hasSignature(bytes))
                return format;
        return null;
    }

    /// <summary>Decodes bytes of this format; <paramref name="name"/> names the file in errors.</summary>
    public DecodedAudio Decode(byte[] bytes, string name) => _decode(bytes, name);

    public override string ToString() => Name;
}
