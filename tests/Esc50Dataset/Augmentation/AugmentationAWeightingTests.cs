using EnvNet.Esc50Dataset.Augmentation;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class AugmentationAWeightingTests
{
    [TestMethod]
    [DataRow(20.0)]
    [DataRow(31.5)]
    [DataRow(100.0)]
    [DataRow(1000.0)]
    [DataRow(3150.0)]
    [DataRow(10000.0)]
    [DataRow(22050.0)]
    public void CurveMatchesFormulaReference(double frequency)
    {
        // Both sides are float64 evaluations of one formula (sum of logs vs product); 1e-9 dB is far above rounding.
        Assert.AreEqual(AugmentationReference.AWeightingDecibels(frequency), AWeighting.Decibels(frequency), 1e-9);
    }

    [TestMethod]
    // IEC 61672-1 table values; the table's nominal frequencies stand for the exact base-ten ones 1000 · 10^(n/10)
    // (nominal "31.5" is 31.62 Hz), at which the table was computed. 0.1 dB covers the table's rounding to 0.1 dB.
    [DataRow(-15, -39.4)]
    [DataRow(-12, -26.2)]
    [DataRow(-10, -19.1)]
    [DataRow(-9, -16.1)]
    [DataRow(-6, -8.6)]
    [DataRow(-3, -3.2)]
    [DataRow(0, 0.0)]
    [DataRow(3, 1.2)]
    [DataRow(6, 1.0)]
    [DataRow(9, -1.1)]
    [DataRow(10, -2.5)]
    [DataRow(12, -6.6)]
    public void CurveMatchesPublishedTable(int thirdOctaveBand, double tableDecibels)
    {
        double frequency = 1000 * Math.Pow(10, thirdOctaveBand / 10.0);
        Assert.AreEqual(tableDecibels, AWeighting.Decibels(frequency), 0.1);
    }

    [TestMethod]
    public void CurveRejectsNonPositiveFrequency()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AWeighting.Decibels(0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AWeighting.Decibels(-5));
    }

    [TestMethod]
    public void FrameLengthsAreTheAuthorsAndNearest128Milliseconds()
    {
        Assert.AreEqual(2048, AWeighting.FrameLength(16000));
        Assert.AreEqual(4096, AWeighting.FrameLength(44100));
        Assert.AreEqual(1024, AWeighting.FrameLength(8000));
        Assert.AreEqual(8192, AWeighting.FrameLength(48000));
    }

    [TestMethod]
    public void GainOfOnBinSineMatchesClosedForm()
    {
        // At 16 kHz with 2048-point frames, 1 kHz is exactly bin 128.
        const int sampleRate = 16000, n = 2048;
        const double amplitude = 0.3;
        float[] sine = Sine(1000, amplitude, sampleRate, 3 * n);
        // The float32 samples carry a relative error of 6e-8, i.e. about 5e-7 dB of power; 1e-4 dB leaves room.
        Assert.AreEqual(AugmentationReference.OnBinSineGainDecibels(amplitude, 128, n, sampleRate),
            AWeighting.ComputeGain(sine, sampleRate), 1e-4);
    }

    [TestMethod]
    public void GainIsLoudestFrameAndMatchesDirectDft()
    {
        // 1 kHz at 44.1 kHz falls between bins (leakage into many bins); the sound gets 4x louder after 4096 samples,
        // so the loudest of the five frames is a late one. Reference: direct float64 DFT on the same float32 samples.
        const int sampleRate = 44100, n = 4096;
        float[] sound = Sine(1000, 0.1, sampleRate, 3 * n);
        for (int i = n; i < sound.Length; i++) sound[i] *= 4;
        double expected = AugmentationReference.GainDecibels(Array.ConvertAll(sound, x => (double)x), sampleRate, n);
        // Same input samples, float64 on both sides: only FFT-vs-DFT rounding differs (~1e-12 relative).
        Assert.AreEqual(expected, AWeighting.ComputeGain(sound, sampleRate), 1e-6);
        Assert.AreEqual(20 * Math.Log10(4), expected - AWeighting.ComputeGain(sound.AsSpan(0, n), sampleRate), 0.01);
    }

    [TestMethod]
    public void SilenceHitsTheFloor()
    {
        Assert.AreEqual(-80.0, AWeighting.ComputeGain(new float[5000], 16000));
        Assert.AreEqual(-80.0, AWeighting.ComputeGain([], 44100));
    }

    [TestMethod]
    public void ShortSoundIsOneZeroPaddedFrame()
    {
        float[] shortSine = Sine(1000, 0.5, 16000, 1500);
        float[] padded = new float[2048];
        shortSine.CopyTo(padded, 0);
        Assert.AreEqual(AWeighting.ComputeGain(padded, 16000), AWeighting.ComputeGain(shortSine, 16000), 1e-12);
    }

    internal static float[] Sine(double frequency, double amplitude, int sampleRate, int length)
    {
        var sine = new float[length];
        for (int i = 0; i < length; i++) sine[i] = (float)(amplitude * Math.Sin(2 * Math.PI * frequency * i / sampleRate));
        return sine;
    }
}
