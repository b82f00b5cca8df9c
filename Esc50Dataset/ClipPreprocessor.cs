using NAudio.Dsp;

namespace EnvNet.Esc50Dataset;

/// <summary>
/// The EnvNet authors' preprocessing of one clip: decode and average to mono, cut the leading and trailing digital
/// silence (exact zeros), resample to the model's rate, keep within [-1, 1]. The authors convert with ffmpeg to
/// 16-bit PCM at the target rate and then trim zeros; trimming the exact zeros of the decoded source instead
/// removes the same silence without depending on how a resampler rounds near-zero values.
/// </summary>
public static class ClipPreprocessor
{
    /// <summary>Part of every cache key: change it whenever the output of <see cref="Preprocess"/> changes.</summary>
    public const int Version = 1;

    public const int MinTargetRate = 1_000;
    public const int MaxTargetRate = 192_000;

    /// <summary>Taps of NAudio's windowed-sinc (Blackman-Harris) filter at the input rate. For 44.1 to 16 kHz it is
    /// flat within 0.1 dB up to 7 kHz, 39 dB down at 8.5 kHz and 67 dB down at 10 kHz, at 17 ms per 5 s clip (256 taps:
    /// 94 dB at 10 kHz but twice the time). NAudio's WdlResamplingSampleProvider uses linear interpolation and two IIR
    /// stages instead: 12.6 dB down at 7 kHz and only 27 dB at 10 kHz, so it is not used.</summary>
    public const int SincTaps = 128;

    private const int SincOversampling = 32;
    private const int OutputBlock = 8192;

    public static float[] Preprocess(string path, int sampleRate, bool trimSilence = true)
    {
        CheckTargetRate(sampleRate);
        var audio = AudioDecoder.Decode(path);
        var samples = trimSilence ? TrimSilence(audio.Samples) : audio.Samples;
        if (samples.Length == 0)
            throw new DatasetException($"{path}: empty clip: every sample is digital silence (exactly zero)");
        long outputLength = (long)samples.Length * sampleRate / audio.SampleRate;
        if (outputLength > AudioDecoder.MaxSamples)
            throw new DatasetException($"{path}: {outputLength} samples at {sampleRate} Hz, more than the {AudioDecoder.MaxSamples} a clip may have");
        var resampled = Resample(samples, audio.SampleRate, sampleRate);
        if (resampled.Length == 0)
            throw new DatasetException($"{path}: empty clip: {samples.Length} samples at {audio.SampleRate} Hz leave none at {sampleRate} Hz");
        return resampled;
    }

    /// <summary>The samples between the first and the last non-zero sample, as the authors' sound.nonzero().</summary>
    public static float[] TrimSilence(float[] samples)
    {
        int first = Array.FindIndex(samples, s => s != 0f);
        if (first < 0)
            return [];
        int last = Array.FindLastIndex(samples, s => s != 0f);
        return first == 0 && last == samples.Length - 1 ? samples : samples[first..(last + 1)];
    }

    /// <summary>
    /// Band-limited resampling with NAudio's <see cref="WdlResampler"/> in sinc mode, without delay: an input
    /// sample at time t lands at time t of the output. A clip already at <paramref name="toRate"/> is returned as
    /// it is. Values are clamped to [-1, 1] (the filter can overshoot on full-scale input; the authors' 16-bit
    /// conversion clips the same way).
    /// </summary>
    public static float[] Resample(float[] samples, int fromRate, int toRate)
    {
        if (fromRate == toRate)
            return samples;
        var resampler = new WdlResampler();
        resampler.SetMode(interp: false, filtercnt: 0, sinc: true, sinc_size: SincTaps, sinc_interpsize: SincOversampling);
        resampler.SetFeedMode(false); // output driven: we ask for output and feed what it needs
        resampler.SetRates(fromRate, toRate);

        var output = new List<float>((int)((long)samples.Length * toRate / fromRate) + OutputBlock);
        var block = new float[OutputBlock];
        int consumed = 0;
        while (true)
        {
            int needed = resampler.ResamplePrepare(OutputBlock, 1, out var input, out var inputOffset);
            int given = Math.Min(needed, samples.Length - consumed);
            Array.Copy(samples, consumed, input, inputOffset, given);
            consumed += given;
            // Fewer samples than asked for makes the resampler flush its filter and return only valid output.
            int produced = resampler.ResampleOut(block, 0, given, OutputBlock, 1);
            output.AddRange(block.AsSpan(0, produced));
            if (produced == 0 && consumed == samples.Length)
                break;
        }
        var result = output.ToArray();
        for (int i = 0; i < result.Length; i++)
            result[i] = Math.Clamp(result[i], -1f, 1f);
        return result;
    }

    internal static void CheckTargetRate(int sampleRate)
    {
        if (sampleRate < MinTargetRate || sampleRate > MaxTargetRate)
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, $"expected {MinTargetRate}..{MaxTargetRate} Hz");
    }
}
