using NAudio.Dmo;
using NAudio.Wave;

namespace EnvNet.Esc50Dataset;

/// <summary>A decoded WAV file: mono samples in [-1, 1] at the file's sample rate.</summary>
public sealed record DecodedAudio(float[] Samples, int SampleRate, int Channels, string Format);

/// <summary>
/// Reads WAV files with NAudio's <see cref="WaveFileReader"/> and sample converters: PCM 8/16/24/32-bit,
/// IEEE float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE, any channel count (averaged to mono), any sample rate.
/// NAudio 2.2.1 reads an extensible fmt chunk as <see cref="WaveFormatExtraData"/>, which its converters
/// reject, so the sub-format GUID is taken from the extra bytes here. Everything read from a header is checked
/// against the file before it sizes an allocation, so a damaged file gets a <see cref="DatasetException"/>
/// naming it, never a crash or an out-of-memory.
/// </summary>
public static class WavDecoder
{
    /// <summary>Far above a 5 s ESC-50 clip (441 KB) and small enough to read whole into memory.</summary>
    public const long MaxFileBytes = 256L << 20;
    /// <summary>Samples of all channels together: 2^26 is 25 minutes of 44.1 kHz stereo.</summary>
    public const long MaxSamples = 1L << 26;
    public const int MinSampleRate = 1_000;
    public const int MaxSampleRate = 1_000_000;
    public const int MaxChannels = 64;

    private const int FramesPerRead = 16_384;

    public static DecodedAudio Decode(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new DatasetException($"{path}: audio file does not exist");
        if (file.Length > MaxFileBytes)
            throw new DatasetException($"{path}: {file.Length} bytes, more than the {MaxFileBytes >> 20} MiB a clip may have");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new DatasetException($"{path}: cannot be read ({e.Message})", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Decodes the bytes of a WAV file; <paramref name="name"/> names it in errors.</summary>
    public static DecodedAudio Decode(byte[] bytes, string name)
    {
        CheckRiffWave(bytes, name);
        using var stream = new MemoryStream(bytes, writable: false);
        WaveFileReader reader;
        try
        {
            reader = new WaveFileReader(stream);
        }
        catch (DivideByZeroException e)
        {
            throw new DatasetException($"{name}: malformed WAV header (block align 0 in the fmt chunk)", e);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or EndOfStreamException or ArgumentException
                                      or OverflowException or InvalidOperationException)
        {
            throw new DatasetException($"{name}: malformed WAV header ({e.Message})", e);
        }
        using (reader)
        {
            var format = StandardFormat(reader.WaveFormat, name);
            long dataBytes = reader.Length;
            long availableBytes = stream.Length - stream.Position; // the reader leaves the stream at the data chunk
            if (dataBytes > availableBytes)
                throw new DatasetException($"{name}: truncated data chunk: the header declares {dataBytes} bytes of audio, the file holds {availableBytes}");
            if (dataBytes % format.BlockAlign != 0)
                throw new DatasetException($"{name}: truncated data chunk: {dataBytes} bytes is not a whole number of {format.BlockAlign}-byte frames");
            long frames = dataBytes / format.BlockAlign;
            if (frames == 0)
                throw new DatasetException($"{name}: empty clip: the data chunk holds no samples");
            if (frames * format.Channels > MaxSamples)
                throw new DatasetException($"{name}: {frames * format.Channels} samples, more than the {MaxSamples} a clip may have");

            var interleaved = ReadInterleaved(new ReformattedWaveProvider(reader, format), (int)(frames * format.Channels), name);
            if (format.Encoding == WaveFormatEncoding.IeeeFloat)
                CheckFinite(interleaved, format.Channels, name);
            var label = $"{(reader.WaveFormat.Encoding == WaveFormatEncoding.Extensible ? "extensible " : "")}" +
                        $"{(format.Encoding == WaveFormatEncoding.Pcm ? "PCM" : "float")} {format.BitsPerSample}-bit";
            return new DecodedAudio(Downmix(interleaved, format.Channels), format.SampleRate, format.Channels, label);
        }
    }

    private static void CheckRiffWave(byte[] bytes, string name)
    {
        static bool Tag(byte[] b, int at, string tag) => b[at] == tag[0] && b[at + 1] == tag[1] && b[at + 2] == tag[2] && b[at + 3] == tag[3];
        if (bytes.Length >= 12 && Tag(bytes, 0, "RF64") && Tag(bytes, 8, "WAVE"))
            throw new DatasetException($"{name}: unsupported encoding: RF64 (64-bit WAV) files are not supported, expected a RIFF/WAVE file");
        if (bytes.Length < 12 || !Tag(bytes, 0, "RIFF") || !Tag(bytes, 8, "WAVE"))
            throw new DatasetException($"{name}: not a RIFF/WAVE file (expected 'RIFF' at byte 0 and 'WAVE' at byte 8)");
    }

    /// <summary>The plain PCM or float format the data is in, after checking it is one we decode.</summary>
    private static WaveFormat StandardFormat(WaveFormat format, string name)
    {
        var encoding = format.Encoding;
        if (encoding == WaveFormatEncoding.Extensible)
        {
            if (format is not WaveFormatExtraData extra || format.ExtraSize < 22)
                throw new DatasetException($"{name}: malformed WAVE_FORMAT_EXTENSIBLE fmt chunk: {format.ExtraSize} extra bytes, expected 22");
            var subFormat = new Guid(extra.ExtraData.AsSpan(6, 16));
            encoding = subFormat == AudioMediaSubtypes.MEDIASUBTYPE_PCM ? WaveFormatEncoding.Pcm
                : subFormat == AudioMediaSubtypes.MEDIASUBTYPE_IEEE_FLOAT ? WaveFormatEncoding.IeeeFloat
                : throw new DatasetException($"{name}: unsupported encoding: WAVE_FORMAT_EXTENSIBLE sub-format {subFormat}, expected PCM or IEEE float");
        }
        int bits = format.BitsPerSample;
        bool supported = encoding switch
        {
            WaveFormatEncoding.Pcm => bits is 8 or 16 or 24 or 32,
            WaveFormatEncoding.IeeeFloat => bits is 32 or 64,
            _ => throw new DatasetException($"{name}: unsupported encoding: format tag {(int)format.Encoding}" +
                $"{(Enum.IsDefined(format.Encoding) ? $" ({format.Encoding})" : "")}, expected PCM, IEEE float or WAVE_FORMAT_EXTENSIBLE"),
        };
        if (!supported)
            throw new DatasetException($"{name}: unsupported encoding: {bits}-bit {(encoding == WaveFormatEncoding.Pcm ? "PCM" : "float")}, expected PCM 8/16/24/32-bit or float 32/64-bit");
        if (format.Channels < 1 || format.Channels > MaxChannels)
            throw new DatasetException($"{name}: {format.Channels} channels, expected 1..{MaxChannels}");
        if (format.SampleRate < MinSampleRate || format.SampleRate > MaxSampleRate)
            throw new DatasetException($"{name}: sample rate {format.SampleRate} Hz, expected {MinSampleRate}..{MaxSampleRate} Hz");
        int frameBytes = format.Channels * bits / 8;
        if (format.BlockAlign != frameBytes)
            throw new DatasetException($"{name}: block align {format.BlockAlign} bytes, expected {frameBytes} for {format.Channels} channels of {bits} bits");
        return encoding == WaveFormatEncoding.Pcm
            ? new WaveFormat(format.SampleRate, bits, format.Channels)
            : WaveFormat.CreateCustomFormat(WaveFormatEncoding.IeeeFloat, format.SampleRate, format.Channels,
                format.SampleRate * frameBytes, frameBytes, bits);
    }

    private static float[] ReadInterleaved(IWaveProvider source, int sampleCount, string name)
    {
        var samples = new float[sampleCount];
        var provider = source.ToSampleProvider();
        int chunk = FramesPerRead * source.WaveFormat.Channels;
        int filled = 0;
        while (filled < sampleCount)
        {
            int read = provider.Read(samples, filled, Math.Min(chunk, sampleCount - filled));
            if (read <= 0)
                throw new DatasetException($"{name}: truncated data chunk: {filled} of {sampleCount} samples could be read");
            filled += read;
        }
        return samples;
    }

    private static void CheckFinite(float[] interleaved, int channels, string name)
    {
        for (int i = 0; i < interleaved.Length; i++)
            if (!float.IsFinite(interleaved[i]))
                throw new DatasetException($"{name}: sample {i / channels} (channel {i % channels}) is {interleaved[i]}, expected a finite float");
    }

    private static float[] Downmix(float[] interleaved, int channels)
    {
        if (channels == 1)
            return interleaved;
        var mono = new float[interleaved.Length / channels];
        for (int frame = 0, i = 0; frame < mono.Length; frame++)
        {
            float sum = 0;
            for (int c = 0; c < channels; c++)
                sum += interleaved[i++];
            mono[frame] = sum / channels;
        }
        return mono;
    }

    /// <summary>The reader's data under the plain format NAudio's converters accept (for extensible files).</summary>
    private sealed class ReformattedWaveProvider(IWaveProvider source, WaveFormat format) : IWaveProvider
    {
        public WaveFormat WaveFormat => format;

        public int Read(byte[] buffer, int offset, int count) => source.Read(buffer, offset, count);
    }
}
