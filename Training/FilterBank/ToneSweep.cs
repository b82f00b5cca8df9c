namespace EnvNet.Training.FilterBank;

/// <summary>
/// The probe's input: one pure tone per frequency, each filling a whole input window at the model's sample rate.
/// Tone k is <c>x[n] = Amplitude · cos(2π f_k n / SampleRate)</c>, n = 0..InputLength-1. Cosine phase, because a
/// sine at exactly the Nyquist frequency samples to all zeros while the cosine there is the full-scale (-1)^n.
/// </summary>
public sealed class ToneSweep
{
    public const int DefaultCount = 200;
    public const double DefaultLowestHz = 10;

    /// <summary>-6 dBFS: well inside the [-1, 1] range of the training waveforms, loud enough to drive every filter.</summary>
    public const float DefaultAmplitude = 0.5f;

    private readonly double[] _frequenciesHz;

    public ToneSweep(IReadOnlyList<double> frequenciesHz, int sampleRate, int inputLength, float amplitude)
    {
        if (sampleRate <= 0) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "The sample rate must be positive.");
        if (inputLength <= 0) throw new ArgumentOutOfRangeException(nameof(inputLength), inputLength, "The input length must be positive.");
        if (!(amplitude > 0) || !float.IsFinite(amplitude))
            throw new ArgumentOutOfRangeException(nameof(amplitude), amplitude, "The tone amplitude must be a positive number.");
        if (frequenciesHz.Count == 0) throw new ArgumentException("A tone sweep needs at least one frequency.", nameof(frequenciesHz));
        foreach (var f in frequenciesHz)
            if (!(f > 0 && f <= sampleRate / 2.0))
                throw new ArgumentOutOfRangeException(nameof(frequenciesHz), f,
                    $"Tone frequencies must lie in (0, {sampleRate / 2.0}] Hz, the Nyquist range at {sampleRate} Hz.");
        _frequenciesHz = frequenciesHz.ToArray();
        SampleRate = sampleRate;
        InputLength = inputLength;
        Amplitude = amplitude;
    }

    public IReadOnlyList<double> FrequenciesHz => _frequenciesHz;
    public int Count => _frequenciesHz.Length;
    public int SampleRate { get; }
    public int InputLength { get; }
    public float Amplitude { get; }

    /// <summary>The default probe: <paramref name="count"/> tones evenly spaced in log frequency from
    /// <paramref name="lowestHz"/> to <paramref name="highestHz"/>, which defaults to the Nyquist frequency
    /// (8 kHz for EnvNet at 16 kHz, 22.05 kHz for EnvNet-v2 at 44.1 kHz).</summary>
    public static ToneSweep LogSpaced(int sampleRate, int inputLength, int count = DefaultCount,
        double lowestHz = DefaultLowestHz, double? highestHz = null, float amplitude = DefaultAmplitude) =>
        new(LogSpacedFrequencies(lowestHz, highestHz ?? sampleRate / 2.0, count), sampleRate, inputLength, amplitude);

    /// <summary><c>f_k = lowest · (highest / lowest)^(k / (count - 1))</c>, k = 0..count-1; both ends included.</summary>
    public static double[] LogSpacedFrequencies(double lowestHz, double highestHz, int count)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), count, "A log-spaced sweep needs at least 2 frequencies.");
        if (!(lowestHz > 0 && highestHz > lowestHz))
            throw new ArgumentOutOfRangeException(nameof(highestHz), highestHz,
                $"A log-spaced sweep needs 0 < lowest < highest; got lowest {lowestHz} Hz, highest {highestHz} Hz.");
        var ratio = Math.Log(highestHz / lowestHz);
        var frequencies = new double[count];
        for (var k = 0; k < count; k++) frequencies[k] = lowestHz * Math.Exp(ratio * k / (count - 1));
        frequencies[^1] = highestHz; // exact top, so a Nyquist tone stays at Nyquist despite rounding
        return frequencies;
    }

    /// <summary>Writes tones <paramref name="firstTone"/>..firstTone+toneCount-1 as consecutive rows of
    /// InputLength samples into <paramref name="inputs"/>.</summary>
    public void Write(int firstTone, int toneCount, Span<float> inputs)
    {
        if (firstTone < 0 || toneCount < 0 || firstTone + toneCount > Count)
            throw new ArgumentOutOfRangeException(nameof(toneCount), $"Tones {firstTone}..{firstTone + toneCount - 1} are outside the sweep of {Count}.");
        if (inputs.Length < (long)toneCount * InputLength)
            throw new ArgumentException($"{toneCount} tones of {InputLength} samples do not fit in {inputs.Length} values.", nameof(inputs));
        for (var t = 0; t < toneCount; t++)
        {
            var row = inputs.Slice(t * InputLength, InputLength);
            var radiansPerSample = 2 * Math.PI * _frequenciesHz[firstTone + t] / SampleRate;
            for (var n = 0; n < InputLength; n++)
                row[n] = (float)(Amplitude * Math.Cos(n * radiansPerSample));
        }
    }
}
