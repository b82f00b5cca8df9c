namespace EnvNet.Tests;

/// <summary>Measures tones in decoded audio, for formats that do not give the samples back (lossy codecs):
/// the amplitude of one frequency by a Hann-windowed single-bin Fourier sum over a span of the signal.</summary>
internal static class ToneMeter
{
    /// <summary>The amplitude of the sine at <paramref name="hz"/> in samples [from, to): a full-scale sine gives 1.</summary>
    public static double Amplitude(float[] samples, int sampleRate, double hz, int from, int to)
    {
        double re = 0, im = 0, windowSum = 0;
        int n = to - from;
        for (int i = 0; i < n; i++)
        {
            double window = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / (n - 1));
            double phase = 2 * Math.PI * hz * (from + i) / sampleRate;
            re += window * samples[from + i] * Math.Cos(phase);
            im -= window * samples[from + i] * Math.Sin(phase);
            windowSum += window;
        }
        return 2 * Math.Sqrt(re * re + im * im) / windowSum;
    }
}
