using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Audio;
using static EnvNet.Tests.Esc50TestData;

namespace EnvNet.Tests;

[TestClass]
public sealed class Esc50AudioTests
{
    private static readonly float[] Ramp = Enumerable.Range(0, 400).Select(i => (float)Math.Sin(i * 0.05) * 0.7f).ToArray();

    // Each encoding decodes to the signal written, within half a quantisation step of its bit depth (8-bit: 1/256).
    [TestMethod]
    [DataRow(FormatPcm, 8, 1 / 255.0)]
    [DataRow(FormatPcm, 16, 1 / 65535.0)]
    [DataRow(FormatPcm, 24, 1e-6)]
    [DataRow(FormatPcm, 32, 1e-6)]
    [DataRow(FormatFloat, 32, 0.0)]
    [DataRow(FormatFloat, 64, 1e-7)]
    public void EveryEncodingDecodesToTheSignal(short formatTag, int bits, double tolerance)
    {
        var audio = WavDecoder.Decode(Wav(MonoFrames(Ramp), 22050, formatTag, bits), "ramp.wav");
        Assert.AreEqual(22050, audio.SampleRate);
        AssertClose(Ramp, audio.Samples, tolerance);
    }

    [TestMethod]
    [DataRow(24, false)]
    [DataRow(16, false)]
    [DataRow(32, true)]
    public void ExtensibleFormatDecodes(int bits, bool isFloat)
    {
        var bytes = Wav(MonoFrames(Ramp), 44100, FormatExtensible, bits, isFloat ? SubFormatFloat : SubFormatPcm);
        var audio = WavDecoder.Decode(bytes, "extensible.wav");
        StringAssert.Contains(audio.Format, "extensible");
        AssertClose(Ramp, audio.Samples, 1 / 65535.0);
    }

    [TestMethod]
    public void ChannelsAreAveragedToMono()
    {
        var frames = new float[Ramp.Length, 3];
        for (int i = 0; i < Ramp.Length; i++)
            (frames[i, 0], frames[i, 1], frames[i, 2]) = (Ramp[i], 0.5f * Ramp[i], -0.3f * Ramp[i]);
        var audio = WavDecoder.Decode(Wav(frames, 44100, FormatExtensible, 24), "three.wav");
        Assert.AreEqual(3, audio.Channels);
        AssertClose(Ramp.Select(v => v * 0.4f).ToArray(), audio.Samples, 1e-6);
    }

    [TestMethod]
    public void SilenceIsTrimmedOnlyAtTheEdges()
    {
        float[] clip = [0, 0, 0.5f, 0, -0.25f, 0, 0];
        CollectionAssert.AreEqual(new[] { 0.5f, 0, -0.25f }, ClipPreprocessor.TrimSilence(clip));
        Assert.AreEqual(0, ClipPreprocessor.TrimSilence([0f, 0f]).Length);
    }

    // A 1 kHz sine at 44.1 kHz resampled to 16 kHz: length 5 s x 16 kHz exactly, frequency by zero crossings within
    // 0.1 Hz over 4.8 s, amplitude (RMS away from the edges) within 0.1 dB of the input.
    [TestMethod]
    public void ResamplingKeepsFrequencyAndAmplitude()
    {
        var sine = Sine(1000, 44100, 220500, 0.5);
        var output = ClipPreprocessor.Resample(sine, 44100, 16000);
        Assert.AreEqual(80000, output.Length);
        int first = -1, last = -1, crossings = 0;
        for (int i = 1600; i < 78400; i++)
            if (output[i - 1] < 0 && output[i] >= 0)
            {
                if (first < 0) first = i;
                last = i;
                crossings++;
            }
        double hz = (crossings - 1) * 16000.0 / (last - first);
        Assert.AreEqual(1000, hz, 0.1);
        Assert.AreEqual(0, Decibels(Rms(output, 1600, 78400) / (0.5 / Math.Sqrt(2))), 0.1);
    }

    // A 10 kHz tone lies above the 8 kHz Nyquist of 16 kHz: it must be filtered out, not folded to 6 kHz.
    // NAudio's sinc filter (128 taps) measures 67 dB down; 60 dB is the stated requirement.
    [TestMethod]
    public void ResamplingRemovesContentAboveTheNewNyquist()
    {
        var output = ClipPreprocessor.Resample(Sine(10000, 44100, 44100, 0.5), 44100, 16000);
        Assert.IsTrue(Decibels(Rms(output, 800, output.Length - 800) / (0.5 / Math.Sqrt(2))) < -60);
    }

    // WaveMxNet's 8 kHz: 5 s of a 1 kHz sine at 44.1 kHz give 40,000 samples at 1 kHz and the same level, and a
    // 7 kHz tone, above the 4 kHz Nyquist, is filtered out. The filter runs at the input rate, so its transition band
    // is as wide in Hz as for 16 kHz: the tone lies 3 kHz above Nyquist.
    [TestMethod]
    public void ResamplingTo8kHzKeepsFrequencyAndAmplitudeAndRemovesWhatLiesAbove4kHz()
    {
        var output = ClipPreprocessor.Resample(Sine(1000, 44100, 220500, 0.5), 44100, 8000);
        Assert.AreEqual(40000, output.Length);
        int first = -1, last = -1, crossings = 0;
        for (int i = 800; i < 39200; i++)
            if (output[i - 1] < 0 && output[i] >= 0)
            {
                if (first < 0) first = i;
                last = i;
                crossings++;
            }
        Assert.AreEqual(1000, (crossings - 1) * 8000.0 / (last - first), 0.1);
        Assert.AreEqual(0, Decibels(Rms(output, 800, 39200) / (0.5 / Math.Sqrt(2))), 0.1);

        var above = ClipPreprocessor.Resample(Sine(7000, 44100, 44100, 0.5), 44100, 8000);
        Assert.IsTrue(Decibels(Rms(above, 400, above.Length - 400) / (0.5 / Math.Sqrt(2))) < -60);
    }

    [TestMethod]
    public void ClipAtTheTargetRateIsNotResampled()
    {
        var clip = Sine(440, 16000, 1000, 0.3);
        Assert.AreSame(clip, ClipPreprocessor.Resample(clip, 16000, 16000));
    }

    [TestMethod]
    public void BadFilesGetErrorsNamingThem()
    {
        var good = Wav(MonoFrames(Ramp), 44100, FormatPcm, 16);
        var cases = new (string Expected, byte[] Bytes)[]
        {
            ("not a RIFF/WAVE file", "ID3\u0004 this is an mp3"u8.ToArray()),
            ("not a RIFF/WAVE file", good[..8]),
            ("truncated data chunk", good[..(good.Length - 101)]),
            ("truncated data chunk", Wav(new byte[3], 1, 44100, FormatPcm, 16)),
            ("empty clip", Wav([], 1, 44100, FormatPcm, 16)),
            ("NaN", Wav(MonoFrames([0.1f, float.NaN, 0.2f]), 44100, FormatFloat, 32)),
            ("Infinity", Wav(MonoFrames([0.1f, float.PositiveInfinity]), 44100, FormatFloat, 32)),
            ("unsupported encoding: format tag 6 (ALaw)", Wav(new byte[64], 1, 44100, 6, 8)),
            ("block align 0", Wav(new byte[64], 1, 44100, 2, 4)),
            ("unsupported encoding: 12-bit PCM", Wav(new byte[64], 1, 44100, FormatPcm, 12)),
            ("unsupported encoding: WAVE_FORMAT_EXTENSIBLE sub-format", Wav(new byte[64], 1, 44100, FormatExtensible, 16, Guid.NewGuid())),
            ("unsupported encoding: RF64", [.. "RF64"u8, .. good[4..]]),
            ("malformed WAV header", good[..20]),
            ("sample rate 0 Hz", Wav(new byte[64], 1, 0, FormatPcm, 16)),
        };
        foreach (var (expected, bytes) in cases)
        {
            var error = Assert.ThrowsExactly<DatasetException>(() => WavDecoder.Decode(bytes, "bad.wav"), expected);
            StringAssert.StartsWith(error.Message, "bad.wav: ");
            StringAssert.Contains(error.Message, expected);
        }
    }

    [TestMethod]
    public void SilentClipAndMissingFileAreErrors()
    {
        using var dir = new TempDir();
        var silent = dir.Sub("silent.wav");
        File.WriteAllBytes(silent, Wav(new byte[2000], 1, 44100, FormatPcm, 16));
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => ClipPreprocessor.Preprocess(silent, 16000)).Message, "digital silence");
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => ClipPreprocessor.Preprocess(dir.Sub("nothing.wav"), 16000)).Message,
            "nothing.wav: audio file does not exist");
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.AreEqual(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], tolerance + 1e-7, $"sample {i}");
    }

    private static double Rms(float[] x, int from, int to)
    {
        double sum = 0;
        for (int i = from; i < to; i++)
            sum += (double)x[i] * x[i];
        return Math.Sqrt(sum / (to - from));
    }

    private static double Decibels(double ratio) => 20 * Math.Log10(ratio);
}
