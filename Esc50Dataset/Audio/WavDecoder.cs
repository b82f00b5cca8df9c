using System.Buffers.Binary;
using NAudio.Dmo;
using NAudio.Wave;

namespace EnvNet.Esc50Dataset.Audio;

/// <summary>
/// Reads WAV files: PCM 8/16/24/32-bit, IEEE float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE, any channel count
/// (averaged to mono), any sample rate. The RIFF chunks and the fmt fields are parsed here, each checked against the
/// file before it is trusted, so a damaged file gets a <see cref="DatasetException"/> naming it and saying what is
/// wrong, never a crash, an out-of-memory or a message from inside a library; NAudio's sample converters then turn
/// the data chunk into floats. Chunks are walked from byte 12 up to the data chunk (a pad byte after an odd-sized
/// chunk is skipped when it is zero, as NAudio does); the RIFF size is not relied on, as writers often get it wrong.
/// </summary>
public static class WavDecoder
{
    private const int FramesPerRead = 16_384;
    private const int ChunkHeaderBytes = 8;
    private const int PlainFmtBytes = 16;
    private const int ExtensibleFmtBytes = 40;
    private const int ExtensibleExtraBytes = 22;
    private const ushort ExtensibleTag = 0xFFFE;

    /// <summary>Whether the bytes start like a RIFF/WAVE file (or an RF64 one, which <see cref="Decode"/> refuses by name).</summary>
    public static bool HasSignature(ReadOnlySpan<byte> head) =>
        head.Length >= 12 && (head.StartsWith("RIFF"u8) || head.StartsWith("RF64"u8)) && head[8..12].SequenceEqual("WAVE"u8);

    /// <summary>Decodes the bytes of a WAV file; <paramref name="name"/> names it in errors.</summary>
    public static DecodedAudio Decode(byte[] bytes, string name)
    {
        CheckRiffWave(bytes, name);
        var (fmt, dataOffset, dataBytes) = FindChunks(bytes, name);
        var format = StandardFormat(fmt, name);
        if (dataBytes % format.BlockAlign != 0)
            throw new DatasetException($"{name}: truncated data chunk: {dataBytes} bytes is not a whole number of {format.BlockAlign}-byte frames");
        long frames = dataBytes / format.BlockAlign;
        if (frames == 0)
            throw new DatasetException($"{name}: empty clip: the data chunk holds no samples");
        if (frames * format.Channels > AudioDecoder.MaxSamples)
            throw new DatasetException($"{name}: {frames * format.Channels} samples, more than the {AudioDecoder.MaxSamples} a clip may have");

        using var data = new RawSourceWaveStream(new MemoryStream(bytes, dataOffset, (int)dataBytes, writable: false), format);
        var interleaved = ReadInterleaved(data, (int)(frames * format.Channels), name);
        if (format.Encoding == WaveFormatEncoding.IeeeFloat)
            InterleavedSamples.ClampFinite(interleaved, format.Channels, name);
        var label = $"{(fmt.Tag == ExtensibleTag ? "extensible " : "")}" +
                    $"{(format.Encoding == WaveFormatEncoding.Pcm ? "PCM" : "float")} {format.BitsPerSample}-bit";
        return new DecodedAudio(InterleavedSamples.Downmix(interleaved, format.Channels), format.SampleRate, format.Channels, label);
    }

    private static void CheckRiffWave(byte[] bytes, string name)
    {
        if (bytes.Length >= 12 && Tag(bytes, 0, "RF64") && Tag(bytes, 8, "WAVE"))
            throw new DatasetException($"{name}: unsupported encoding: RF64 (64-bit WAV) files are not supported, expected a RIFF/WAVE file");
        if (bytes.Length < 12 || !Tag(bytes, 0, "RIFF") || !Tag(bytes, 8, "WAVE"))
            throw new DatasetException($"{name}: not a RIFF/WAVE file (expected 'RIFF' at byte 0 and 'WAVE' at byte 8)");
    }

    private static bool Tag(byte[] b, int at, string tag) => b[at] == tag[0] && b[at + 1] == tag[1] && b[at + 2] == tag[2] && b[at + 3] == tag[3];

    /// <summary>The fields of a fmt chunk; <see cref="SubFormat"/> only for WAVE_FORMAT_EXTENSIBLE.</summary>
    private readonly record struct FmtChunk(ushort Tag, ushort Channels, uint SampleRate, ushort BlockAlign, ushort Bits, Guid? SubFormat);

    /// <summary>Walks the chunks up to the data chunk: the fmt chunk before it, where the audio starts and its size.</summary>
    private static (FmtChunk Fmt, int DataOffset, long DataBytes) FindChunks(byte[] bytes, string name)
    {
        FmtChunk? fmt = null;
        for (long at = 12; ;)
        {
            if (at + ChunkHeaderBytes > bytes.Length)
                throw new DatasetException(fmt is null
                    ? $"{name}: malformed WAV header (no fmt chunk: the chunks end at byte {at} of {bytes.Length})"
                    : $"{name}: malformed WAV header (no data chunk: the chunks end at byte {at} of {bytes.Length})");
            var id = ChunkId(bytes, (int)at);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)at + 4));
            long body = at + ChunkHeaderBytes, available = bytes.Length - body;
            if (id == "data")
            {
                if (fmt is null)
                    throw new DatasetException($"{name}: malformed WAV header (data chunk at byte {at} comes before any fmt chunk)");
                if (size > available)
                    throw new DatasetException($"{name}: truncated data chunk: the header declares {size} bytes of audio, the file holds {available}");
                return (fmt.Value, (int)body, size);
            }
            if (size > available)
                throw new DatasetException($"{name}: malformed WAV header ('{id}' chunk at byte {at} declares {size} bytes, the file holds {available} after its header)");
            if (id == "fmt ")
            {
                if (fmt is not null)
                    throw new DatasetException($"{name}: malformed WAV header (a second fmt chunk at byte {at})");
                fmt = ReadFmt(bytes.AsSpan((int)body, (int)size), at, name);
            }
            at = body + size;
            if (size % 2 == 1 && at < bytes.Length && bytes[at] == 0)
                at++;
        }
    }

    /// <summary>The four characters of a chunk id, others than printable ASCII shown as \xNN.</summary>
    private static string ChunkId(byte[] bytes, int at) => string.Concat(bytes.AsSpan(at, 4).ToArray()
        .Select(b => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}"));

    private static FmtChunk ReadFmt(ReadOnlySpan<byte> fmt, long at, string name)
    {
        if (fmt.Length < PlainFmtBytes)
            throw new DatasetException($"{name}: malformed WAV header (fmt chunk at byte {at} has {fmt.Length} bytes, expected at least {PlainFmtBytes})");
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        Guid? subFormat = null;
        if (tag == ExtensibleTag)
        {
            int extra = fmt.Length >= PlainFmtBytes + 2 ? BinaryPrimitives.ReadUInt16LittleEndian(fmt[PlainFmtBytes..]) : 0;
            if (fmt.Length < ExtensibleFmtBytes || extra < ExtensibleExtraBytes)
                throw new DatasetException($"{name}: malformed WAVE_FORMAT_EXTENSIBLE fmt chunk: {fmt.Length} bytes with {extra} extra bytes, " +
                    $"expected {ExtensibleFmtBytes} bytes with {ExtensibleExtraBytes} extra");
            subFormat = new Guid(fmt.Slice(24, 16));
        }
        return new FmtChunk(tag, BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]), BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]), BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]), subFormat);
    }

    /// <summary>The plain PCM or float format the data is in, after checking it is one we decode.</summary>
    private static WaveFormat StandardFormat(FmtChunk fmt, string name)
    {
        if (fmt.BlockAlign == 0)
            throw new DatasetException($"{name}: malformed WAV header (block align 0 in the fmt chunk)");
        var tag = (WaveFormatEncoding)fmt.Tag;
        var encoding = tag;
        if (fmt.SubFormat is { } subFormat)
            encoding = subFormat == AudioMediaSubtypes.MEDIASUBTYPE_PCM ? WaveFormatEncoding.Pcm
                : subFormat == AudioMediaSubtypes.MEDIASUBTYPE_IEEE_FLOAT ? WaveFormatEncoding.IeeeFloat
                : throw new DatasetException($"{name}: unsupported encoding: WAVE_FORMAT_EXTENSIBLE sub-format {subFormat}, expected PCM or IEEE float");
        int bits = fmt.Bits;
        bool supported = encoding switch
        {
            WaveFormatEncoding.Pcm => bits is 8 or 16 or 24 or 32,
            WaveFormatEncoding.IeeeFloat => bits is 32 or 64,
            _ => throw new DatasetException($"{name}: unsupported encoding: format tag {fmt.Tag}" +
                $"{(Enum.IsDefined(tag) ? $" ({tag})" : "")}, expected PCM, IEEE float or WAVE_FORMAT_EXTENSIBLE"),
        };
        if (!supported)
            throw new DatasetException($"{name}: unsupported encoding: {bits}-bit {(encoding == WaveFormatEncoding.Pcm ? "PCM" : "float")}, expected PCM 8/16/24/32-bit or float 32/64-bit");
        InterleavedSamples.CheckLayout(fmt.Channels, fmt.SampleRate, name);
        int rate = (int)fmt.SampleRate, channels = fmt.Channels, frameBytes = channels * bits / 8;
        if (fmt.BlockAlign != frameBytes)
            throw new DatasetException($"{name}: block align {fmt.BlockAlign} bytes, expected {frameBytes} for {channels} channels of {bits} bits");
        return encoding == WaveFormatEncoding.Pcm
            ? new WaveFormat(rate, bits, channels)
            : WaveFormat.CreateCustomFormat(WaveFormatEncoding.IeeeFloat, rate, channels, rate * frameBytes, frameBytes, bits);
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
}
