namespace EnvNet.Tests.References;

/// <summary>Float64 references for the between-class augmentation, written from the formulas, not from the code.</summary>
public static class AugmentationReference
{
    /// <summary>A(f) in dB in the product form of IEC 61672-1: 20 log10 R_A(f) + 2.00.</summary>
    public static double AWeightingDecibels(double f)
    {
        double f2 = f * f;
        double response = 12194.0 * 12194.0 * f2 * f2
            / ((f2 + 20.6 * 20.6) * Math.Sqrt((f2 + 107.7 * 107.7) * (f2 + 737.9 * 737.9)) * (f2 + 12194.0 * 12194.0));
        return 20 * Math.Log10(response) + 2.0;
    }

    /// <summary>
    /// Linear weight of bin k of an n-point spectrum: 10^(A/10) with A floored at -80 dB; the 0 Hz bin takes the floor.
    /// </summary>
    public static double BinWeight(int k, int n, int sampleRate) =>
        k == 0 ? 1e-8 : Math.Pow(10, Math.Max(AWeightingDecibels((double)k * sampleRate / n), -80) / 10);

    /// <summary>
    /// The authors' gain by a direct DFT: full frames of n samples, hop n/2, periodic Hann, sum over bins 0..n/2 of
    /// |X_k|² times the bin weight, floor 1e-8, 10 log10, maximum over frames.
    /// </summary>
    public static double GainDecibels(double[] sound, int sampleRate, int n)
    {
        var cos = new double[n];
        var sin = new double[n];
        for (int i = 0; i < n; i++)
        {
            cos[i] = Math.Cos(2 * Math.PI * i / n);
            sin[i] = Math.Sin(2 * Math.PI * i / n);
        }
        var windowed = new double[n];
        double best = double.NegativeInfinity;
        for (int start = 0; start + n <= sound.Length; start += n / 2)
        {
            for (int i = 0; i < n; i++) windowed[i] = (0.5 - 0.5 * cos[i]) * sound[start + i];
            double power = 0;
            for (int k = 0; k <= n / 2; k++)
            {
                double re = 0, im = 0;
                for (int i = 0, phase = 0; i < n; i++, phase = (phase + k) % n)
                {
                    re += windowed[i] * cos[phase];
                    im -= windowed[i] * sin[phase];
                }
                power += (re * re + im * im) * BinWeight(k, n, sampleRate);
            }
            best = Math.Max(best, 10 * Math.Log10(Math.Max(power, 1e-8)));
        }
        return best;
    }

    /// <summary>
    /// Closed-form gain of a sine of amplitude a exactly on bin k0 of an n-point frame: with a periodic Hann window its
    /// spectrum is a·n/4 at k0 and a·n/8 at k0 ± 1 and zero elsewhere, in every frame.
    /// </summary>
    public static double OnBinSineGainDecibels(double amplitude, int k0, int n, int sampleRate)
    {
        double main = amplitude * n / 4, side = amplitude * n / 8;
        return 10 * Math.Log10(main * main * BinWeight(k0, n, sampleRate)
            + side * side * (BinWeight(k0 - 1, n, sampleRate) + BinWeight(k0 + 1, n, sampleRate)));
    }
}
