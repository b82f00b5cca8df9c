namespace EnvNet.Esc50Dataset.Audio;

/// <summary>A decoded audio file: mono samples in [-1, 1] at the file's sample rate, with the file's channel count
/// and a short description of its encoding ("PCM 16-bit", "Ogg Vorbis").</summary>
public sealed record DecodedAudio(float[] Samples, int SampleRate, int Channels, string Format);

/// <summary>What every decoder does with the interleaved samples it decoded: the limits checked, values kept within
/// [-1, 1], the channels averaged to mono.</summary>
internal static class InterleavedSamples
{
    /// <summary>Frames per chunk of decoded output: reads of a few thousand frames, chunks of a few hundred KB.</summary>
    private const int FramesPerChunk = 1 << 15;

    /// <summary>
    /// Reads a decoding library's interleaved float output to its end into one array of exactly the frames kept. The
    /// library's own length (a granule position, a Xing header) is written by the encoder and not trusted: the output
    /// is gathered in chunks as it comes and stops at <see cref="AudioDecoder.MaxSamples"/>, and at
    /// <paramref name="maxSamples"/>, the most the file's packets or frames can hold (the format's
    /// <c>MaxSamples(bytes)</c>), so a damaged stream that a library decodes over and over ends in a number of reads
    /// bounded by the file's size, and the memory taken is about twice the samples kept. <paramref name="framesKept"/>
    /// says how many of the frames decoded are sound (an Ogg stream's last granule position trims the encoder's
    /// padding); by default all of them.
    /// </summary>
    public static float[] ReadAll(Func<float[], int, int, int> read, int channels, long maxSamples, string name, string format,
        Func<long, long>? framesKept = null)
    {
        var chunks = new List<float[]>();
        var chunk = Array.Empty<float>();
        int filled = 0;
        long total = 0;
        while (true)
        {
            if (filled == chunk.Length)
            {
                chunk = new float[FramesPerChunk * channels];
                chunks.Add(chunk);
                filled = 0;
            }
            int got = read(chunk, filled, chunk.Length - filled);
            if (got <= 0)
                break;
            total += got;
            if (total > AudioDecoder.MaxSamples)
                throw new DatasetException($"{name}: more than the {AudioDecoder.MaxSamples} samples a clip may have in its {format} stream");
            if (total > maxSamples)
                throw new DatasetException($"{name}: damaged {format} stream (it decodes to more than the {maxSamples} samples its {format} data can hold)");
            filled += got;
        }
        long frames = total / channels;
        frames = Math.Clamp(framesKept?.Invoke(frames) ?? frames, 0, frames);
        if (frames == 0)
            throw new DatasetException($"{name}: empty clip: the {format} stream holds no samples");
        var all = new float[frames * channels];
        for (int c = 0, at = 0; at < all.Length; c++)
        {
            int take = Math.Min(chunks[c].Length, all.Length - at);
            chunks[c].AsSpan(0, take).CopyTo(all.AsSpan(at));
            at += take;
        }
        return all;
    }

    /// <summary>
    /// Values beyond full scale (a float WAV, a lossy decoder's overshoot) are clipped to [-1, 1] as a conversion to
    /// PCM would, so every decoded clip keeps the [-1, 1] promise even at the source rate, where nothing is
    /// resampled. NaN and infinity have no such meaning and reject the file.
    /// </summary>
    public static void ClampFinite(float[] interleaved, int channels, string name)
    {
        for (int i = 0; i < interleaved.Length; i++)
        {
            float value = interleaved[i];
            if (!float.IsFinite(value))
                throw new DatasetException($"{name}: sample {i / channels} (channel {i % channels}) is {value}, expected a finite float within the float32 range");
            interleaved[i] = Math.Clamp(value, -1f, 1f);
        }
    }

    public static float[] Downmix(float[] interleaved, int channels)
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

    /// <summary>The channel count and rate a decoder reported, checked against the limits every format shares.</summary>
    public static void CheckLayout(int channels, long sampleRate, string name)
    {
        if (channels < 1 || channels > AudioDecoder.MaxChannels)
            throw new DatasetException($"{name}: {channels} channels, expected 1..{AudioDecoder.MaxChannels}");
        if (sampleRate < AudioDecoder.MinSampleRate || sampleRate > AudioDecoder.MaxSampleRate)
            throw new DatasetException($"{name}: sample rate {sampleRate} Hz, expected {AudioDecoder.MinSampleRate}..{AudioDecoder.MaxSampleRate} Hz");
    }
}

/// <summary>
/// A decoding library signals a damaged stream with whatever its parser hit (InvalidDataException,
/// ArgumentException, IndexOutOfRangeException, "Not a valid MPEG file!", ...): each means this file cannot be
/// decoded, and becomes the product's one-line error naming it. The product's own errors and running out of memory
/// pass through unchanged.
/// </summary>
internal static class LibraryFailure
{
    public static bool IsDamage(Exception e) => e is not DatasetException and not OutOfMemoryException;

    public static DatasetException Damaged(string name, string format, Exception e) =>
        new($"{name}: damaged {format} stream ({string.Join(' ', e.Message.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries))})", e);
}

/// <summary>
/// The file's bytes as a read-only stream for a decoding library, with a step bound: a library that goes back over
/// the file again and again on a damaged stream (seeking to pages or frames it already read, looking for a sync
/// that never comes) is stopped once it has read <see cref="ReadsPerByte"/> times the file, or asked for more at
/// its end <see cref="MaxReadsAtEnd"/> times, with a <see cref="DatasetException"/> naming it. A sound file is read
/// about once, plus the end pages of an Ogg file; a library asks again at the end a few times (NVorbis ten, to wait
/// out a slow network stream), and one that keeps asking is looping on a damaged stream, allocating a page buffer
/// each round.
/// </summary>
internal sealed class BoundedReadStream(byte[] file, string name, string format) : MemoryStream(file, writable: false)
{
    public const int ReadsPerByte = 16;
    public const int MaxReadsAtEnd = 1000;
    private const int ReadsSlack = 1 << 20;

    private readonly long _fileBytes = file.Length;
    private readonly long _budget = (long)ReadsPerByte * file.Length + ReadsSlack;
    private long _read;
    private int _readsAtEnd;

    public override int Read(byte[] buffer, int offset, int count) => Count(base.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(base.Read(buffer));

    public override int ReadByte()
    {
        int value = base.ReadByte();
        Count(value < 0 ? 0 : 1);
        return value;
    }

    private int Count(int read)
    {
        _read += Math.Max(read, 1); // a read at the end counts too: a loop of empty reads is a loop
        if (_read > _budget)
            throw new DatasetException($"{name}: damaged {format} stream (the decoder read {_read} bytes of this {_fileBytes}-byte file without reaching its end)");
        if (read == 0 && ++_readsAtEnd > MaxReadsAtEnd)
            throw new DatasetException($"{name}: damaged {format} stream (the decoder asked for more than {MaxReadsAtEnd} times at the end of this {_fileBytes}-byte file)");
        return read;
    }
}
