using System.Collections.Concurrent;
using NWaves.Transforms;

namespace EnvNet.Esc50Dataset.Augmentation;

/// <summary>
/// A-weighted sound pressure as used by between-class learning (Tokozume, Ushiku &amp; Harada, ICLR 2018) to balance
/// the loudness of two clips before mixing them.
/// </summary>
public static class AWeighting
{
    /// <summary>Floor, in dB, of both the per-bin weight and the per-frame gain (the authors' min_db).</summary>
    public const double FloorDecibels = -80.0;

    // Pole frequencies of the IEC 61672-1 A-weighting filter, in Hz.
    const double F1 = 20.6, F2 = 107.7, F3 = 737.9, F4 = 12194.0;

    // IEC 61672-1 adds 2.00 dB so that A(1 kHz) is 0 dB (to 0.002 dB).
    const double NormalisationDecibels = 2.0;

    static readonly ConcurrentDictionary<int, FrameAnalysis> AnalysisBySampleRate = new();

    /// <summary>
    /// The A-weighting curve A(f) in dB for a frequency in Hz (IEC 61672-1 analytic form, 0 dB at 1 kHz). Not floored:
    /// it tends to minus infinity at 0 Hz.
    /// </summary>
    public static double Decibels(double frequencyHz)
    {
        if (!(frequencyHz > 0) || double.IsInfinity(frequencyHz))
            throw new ArgumentOutOfRangeException(nameof(frequencyHz), frequencyHz, "expected a positive finite frequency in Hz");
        double fSquared = frequencyHz * frequencyHz;
        // 20 log10 of R_A(f) = F4² f⁴ / ((f² + F1²) sqrt((f² + F2²)(f² + F3²)) (f² + F4²)), written as a sum of logs so
        // that neither the numerator nor the denominator overflows.
        double log10Response = 2 * Math.Log10(F4) + 2 * Math.Log10(fSquared)
            - Math.Log10(fSquared + F4 * F4)
            - Math.Log10(fSquared + F1 * F1)
            - 0.5 * Math.Log10(fSquared + F2 * F2)
            - 0.5 * Math.Log10(fSquared + F3 * F3);
        return 20 * log10Response + NormalisationDecibels;
    }

    /// <summary>
    /// Analysis frame length in samples: the power of two nearest 128 ms, which gives the authors' 2048 at 16 kHz and
    /// 4096 at 44.1 kHz (the only two rates their code accepts) and extends the rule to other rates.
    /// </summary>
    public static int FrameLength(int sampleRate)
    {
        if (sampleRate < 1000)
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "expected a sample rate of at least 1000 Hz");
        return 1 << (int)Math.Round(Math.Log2(0.128 * sampleRate));
    }

    /// <summary>
    /// Loudness of a sound in dB as the authors' compute_gain followed by max: frames of <see cref="FrameLength"/>
    /// samples with a hop of half a frame (full frames only), periodic Hann window, one-sided power spectrum
    /// |rfft|² without any 1/N normalisation, each bin weighted by 10^(max(A(f), -80)/10) (the 0 Hz bin takes the
    /// floor), summed over bins, floored at 10^-8 (-80 dB) and converted with 10·log10; the result is the maximum
    /// over frames. Only differences of gains enter the mix, so the missing normalisation cancels there; against the
    /// absolute floor it means that only near-silent frames (about 1e-7 of full scale at 44.1 kHz) hit -80 dB. A sound
    /// shorter than one frame is analysed as a single zero-padded frame (the authors' code fails on it).
    /// </summary>
    public static double ComputeGain(ReadOnlySpan<float> sound, int sampleRate)
    {
        FrameAnalysis analysis = AnalysisBySampleRate.GetOrAdd(sampleRate, rate => new FrameAnalysis(rate));
        int frameLength = analysis.Window.Length;
        int hop = frameLength / 2;
        FftWorkspace workspace = FftWorkspace.ForThread(frameLength);
        int frameCount = sound.Length <= frameLength ? 1 : (sound.Length - frameLength) / hop + 1;
        double maxPower = 0;
        for (int frame = 0; frame < frameCount; frame++)
        {
            int start = frame * hop;
            int available = Math.Min(frameLength, sound.Length - start);
            double[] windowed = workspace.Frame;
            for (int i = 0; i < available; i++) windowed[i] = analysis.Window[i] * sound[start + i];
            Array.Clear(windowed, available, frameLength - available);
            workspace.Fft.Direct(windowed, workspace.Real, workspace.Imaginary);
            double power = 0;
            for (int bin = 0; bin < analysis.BinWeights.Length; bin++)
            {
                double re = workspace.Real[bin], im = workspace.Imaginary[bin];
                power += (re * re + im * im) * analysis.BinWeights[bin];
            }
            maxPower = Math.Max(maxPower, power);
        }
        return 10 * Math.Log10(Math.Max(maxPower, Math.Pow(10, FloorDecibels / 10)));
    }

    /// <summary>Window and per-bin linear A-weights for one sample rate, built once and shared by all threads.</summary>
    sealed class FrameAnalysis
    {
        public readonly double[] Window;
        public readonly double[] BinWeights;

        public FrameAnalysis(int sampleRate)
        {
            int frameLength = FrameLength(sampleRate);
            // Periodic Hann (numpy's hanning(N + 1)[:-1]).
            Window = new double[frameLength];
            for (int i = 0; i < frameLength; i++) Window[i] = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / frameLength);
            BinWeights = new double[frameLength / 2 + 1];
            BinWeights[0] = Math.Pow(10, FloorDecibels / 10);
            for (int bin = 1; bin < BinWeights.Length; bin++)
            {
                double decibels = Math.Max(Decibels((double)bin * sampleRate / frameLength), FloorDecibels);
                BinWeights[bin] = Math.Pow(10, decibels / 10);
            }
        }
    }

    /// <summary>
    /// One thread's FFT plan and buffers (NWaves' transform keeps scratch state, so it is not shared across threads).
    /// </summary>
    sealed class FftWorkspace
    {
        [ThreadStatic] static FftWorkspace? current;

        public readonly RealFft64 Fft;
        public readonly double[] Frame, Real, Imaginary;

        FftWorkspace(int frameLength)
        {
            Fft = new RealFft64(frameLength);
            Frame = new double[frameLength];
            Real = new double[frameLength / 2 + 1];
            Imaginary = new double[frameLength / 2 + 1];
        }

        public static FftWorkspace ForThread(int frameLength)
        {
            if (current is null || current.Frame.Length != frameLength) current = new FftWorkspace(frameLength);
            return current;
        }
    }
}
