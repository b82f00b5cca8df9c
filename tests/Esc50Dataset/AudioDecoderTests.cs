using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Audio;
using NAudio.Wave;
using static EnvNet.Tests.Esc50TestData;

namespace EnvNet.Tests;

/// <summary>
/// <see cref="AudioDecoder"/> on a file of every format read: WAV files written here by NAudio's
/// <see cref="WaveFileWriter"/>, and the Ogg Vorbis and MP3 files of tests/data/audio (made by its make.sh: half a
/// second of a 440 Hz sine at half full scale in mono, 440 Hz left and 1000 Hz right in stereo). Lossy codecs do
/// not give the samples back, so those are checked by rate, channels, length within the codec's padding and the
/// level of each tone; the choice of decoder by content, and the refusal of a file whose extension and content
/// disagree.
/// </summary>
[TestClass]
public sealed class AudioDecoderTests
{
    private const double ToneAmplitude = 0.5;
    private const double LeftHz = 440, RightHz = 1000, AbsentHz = 700;
    private const double ClipSeconds = 0.5;
    /// <summary>An MP3 encoder adds a delay and pads the last frame: at most a few frames of 1152 samples.</summary>
    private const int Mp3PaddingSamples = 3 * 1152;

    public static string AudioDir => Path.Combine(RepositoryRoot, "tests", "data", "audio");
    public const string OggMono = "sine440-mono-22050.ogg", OggStereo = "sine440-1000-stereo-44100.ogg";
    public const string Mp3Mono = "sine440-mono-22050.mp3", Mp3Stereo = "sine440-1000-stereo-44100.mp3";

    [TestMethod]
    [DataRow(8, false, 1, 8000)]
    [DataRow(16, false, 1, 22050)]
    [DataRow(24, false, 1, 96000)]
    [DataRow(32, true, 1, 44100)]
    [DataRow(16, false, 2, 44100)]
    [DataRow(24, false, 2, 48000)]
    [DataRow(32, true, 2, 16000)]
    public void WavFilesOfEveryDepthAndChannelCountDecodeToTheSignalWritten(int bits, bool isFloat, int channels, int rate)
    {
        using var dir = new TempDir();
        var path = dir.Sub("tone.wav");
        int frames = (int)(rate * ClipSeconds);
        var format = isFloat ? WaveFormat.CreateIeeeFloatWaveFormat(rate, channels) : new WaveFormat(rate, bits, channels);
        var left = Sine(LeftHz, rate, frames, ToneAmplitude);
        var right = Sine(RightHz, rate, frames, ToneAmplitude);
        using (var writer = new WaveFileWriter(path, format))
            for (int f = 0; f < frames; f++)
                for (int c = 0; c < channels; c++)
                {
                    float value = c == 0 ? left[f] : right[f];
                    if (bits == 8)
                        writer.WriteByte((byte)Math.Round(128 + 127 * value)); // WriteSample has no 8-bit form
                    else
                        writer.WriteSample(value);
                }

        var audio = AudioDecoder.Decode(path);

        Assert.AreEqual(rate, audio.SampleRate);
        Assert.AreEqual(channels, audio.Channels);
        Assert.AreEqual(frames, audio.Samples.Length);
        double quantum = isFloat ? 1e-7 : 4.0 / (1 << bits); // two steps: the writer truncates and scales by 2^(bits-1) - 1
        for (int f = 0; f < frames; f++)
        {
            double expected = channels == 1 ? left[f] : (left[f] + right[f]) / 2;
            Assert.AreEqual(expected, audio.Samples[f], quantum, $"{bits}-bit {(isFloat ? "float" : "PCM")} x{channels}: frame {f}");
        }
    }

    [TestMethod]
    [DataRow(OggMono, 22050, 1, "Ogg Vorbis")]
    [DataRow(OggStereo, 44100, 2, "Ogg Vorbis")]
    [DataRow(Mp3Mono, 22050, 1, "MP3")]
    [DataRow(Mp3Stereo, 44100, 2, "MP3")]
    public void CompressedFilesDecodeToTheirTonesAtTheirRate(string file, int rate, int channels, string format)
    {
        var audio = AudioDecoder.Decode(Path.Combine(AudioDir, file));

        Assert.AreEqual(format, audio.Format);
        Assert.AreEqual(rate, audio.SampleRate);
        Assert.AreEqual(channels, audio.Channels);
        int encoded = (int)(rate * ClipSeconds);
        int padding = format == "MP3" ? Mp3PaddingSamples : 0;
        Assert.IsTrue(audio.Samples.Length >= encoded && audio.Samples.Length <= encoded + padding,
            $"{file}: {audio.Samples.Length} samples, expected {encoded} (+ up to {padding} of codec padding)");
        Assert.IsTrue(audio.Samples.All(s => s is >= -1 and <= 1), $"{file}: a sample outside [-1, 1]");
        AssertTones(audio, file, channels == 1 ? [(LeftHz, ToneAmplitude)] : [(LeftHz, ToneAmplitude / 2), (RightHz, ToneAmplitude / 2)]);
    }

    [TestMethod]
    [DataRow(OggMono, "clip.wav", "the extension says WAV but the content is Ogg Vorbis")]
    [DataRow(Mp3Stereo, "clip.ogg", "the extension says Ogg Vorbis but the content is MP3")]
    [DataRow(Mp3Mono, "clip.wav", "the extension says WAV but the content is MP3")]
    [DataRow(null, "clip.mp3", "the extension says MP3 but the content is WAV")]
    public void AFileWhoseExtensionAndContentDisagreeIsRefused(string? source, string name, string expected)
    {
        using var dir = new TempDir();
        var path = dir.Sub(name);
        File.WriteAllBytes(path, source is null ? Wav(MonoFrames([0.5f]), 16000, FormatPcm, 16) : File.ReadAllBytes(Path.Combine(AudioDir, source)));
        Assert.AreEqual($"{path}: {expected}; rename the file to its format's extension",
            Assert.ThrowsExactly<DatasetException>(() => AudioDecoder.Decode(path)).Message);
    }

    [TestMethod]
    public void AFileOfNoFormatReadIsRefusedByItsExtensionsDecoder()
    {
        using var dir = new TempDir();
        var text = "not audio at all, just text"u8.ToArray();
        var cases = new (string Name, byte[] Bytes, string Expected)[]
        {
            ("text.wav", text, "not a RIFF/WAVE file"),
            ("text.ogg", text, "not an Ogg file (expected 'OggS' at byte 0)"),
            ("text.mp3", text, "not an MP3 file (expected an ID3v2 tag or an MPEG audio frame header at byte 0)"),
            ("adts.mp3", [0xFF, 0xF1, 0x50, 0x80, 0, 0x1F, 0xFC], "not an MP3 file"), // AAC's ADTS header: layer bits 00
            ("opus.ogg", OpusInOgg(), "the Ogg file's first stream holds Opus data, expected Ogg Vorbis"),
            ("song.flac", text, "extension '.flac' is not one of the audio formats read: WAV (.wav), Ogg Vorbis (.ogg), MP3 (.mp3)"),
        };
        foreach (var (name, bytes, expected) in cases)
        {
            var path = dir.Sub(name);
            File.WriteAllBytes(path, bytes);
            StringAssert.StartsWith(Assert.ThrowsExactly<DatasetException>(() => AudioDecoder.Decode(path), name).Message, $"{path}: {expected}", name);
        }
    }

    [TestMethod]
    public void TheExtensionsAndTheFormatListComeFromTheFormats()
    {
        CollectionAssert.AreEqual(new[] { ".wav", ".ogg", ".mp3" }, AudioDecoder.FileExtensions.ToArray());
        Assert.IsTrue(AudioDecoder.HasAudioExtension("a/B.OGG") && AudioDecoder.HasAudioExtension("c.Mp3") && !AudioDecoder.HasAudioExtension("d.flac"));
        Assert.AreSame(AudioFormat.Mp3, AudioFormat.ByContent(File.ReadAllBytes(Path.Combine(AudioDir, Mp3Mono))), "an ID3v2 tag");
        Assert.AreSame(AudioFormat.Mp3, AudioFormat.ByContent(File.ReadAllBytes(Path.Combine(AudioDir, Mp3Stereo))), "an MPEG frame header");
        Assert.AreSame(AudioFormat.OggVorbis, AudioFormat.ByContent(File.ReadAllBytes(Path.Combine(AudioDir, OggStereo))));
        Assert.AreSame(AudioFormat.Wav, AudioFormat.ByContent(Wav(MonoFrames([0f]), 8000, FormatPcm, 8)));
    }

    /// <summary>The bound on what a compressed file may decode to (which bounds a decoder's memory, and beyond which a
    /// stream is refused as damaged) holds every committed file's samples, and is tight enough to mean something:
    /// within a small factor for Ogg, whose packets say how long they are; for MP3, which bounds every 4 bytes by a
    /// stereo frame of 1152 samples (its smallest frame, free format, has no size floor), within what that allows over
    /// these files' 32 and 96 kbit/s.</summary>
    [TestMethod]
    [DataRow(OggMono, 2.0)]
    [DataRow(OggStereo, 2.0)]
    [DataRow(Mp3Mono, 160.0)]
    [DataRow(Mp3Stereo, 160.0)]
    public void TheDecodedLengthBoundHoldsEachFileWithinAFactor(string file, double factor)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AudioDir, file));
        var format = AudioFormat.ByExtension(file)!;
        long bound = format == AudioFormat.OggVorbis ? OggVorbisDecoder.MaxSamples(bytes) : Mp3Decoder.MaxSamples(bytes);
        var audio = format.Decode(bytes, file);
        long samples = (long)audio.Samples.Length * audio.Channels;
        Assert.IsTrue(samples <= bound && bound <= factor * samples, $"{file}: {samples} samples decoded, bound {bound}");
    }

    /// <summary>The preprocessing of training and predict on the compressed files: resampled to 16 kHz, the tones
    /// stay where they were at the level they had.</summary>
    [TestMethod]
    [DataRow(OggMono)]
    [DataRow(OggStereo)]
    [DataRow(Mp3Mono)]
    [DataRow(Mp3Stereo)]
    public void ThePreprocessorResamplesCompressedFilesKeepingTheirTones(string file)
    {
        const int rate = 16_000;
        var samples = ClipPreprocessor.Preprocess(Path.Combine(AudioDir, file), rate);
        bool stereo = file.Contains("stereo", StringComparison.Ordinal);
        AssertTones(new DecodedAudio(samples, rate, 1, "resampled"), file,
            stereo ? [(LeftHz, ToneAmplitude / 2), (RightHz, ToneAmplitude / 2)] : [(LeftHz, ToneAmplitude)]);
    }

    /// <summary>Each expected tone within 1 dB of its level, and nothing at a frequency not encoded: measured over
    /// the middle 80 % (away from the codecs' fade-in and padding).</summary>
    private static void AssertTones(DecodedAudio audio, string file, (double Hz, double Amplitude)[] tones)
    {
        int from = audio.Samples.Length / 10, to = audio.Samples.Length - from;
        foreach (var (hz, amplitude) in tones)
        {
            double measured = ToneMeter.Amplitude(audio.Samples, audio.SampleRate, hz, from, to);
            Assert.AreEqual(0, 20 * Math.Log10(measured / amplitude), 1.0, $"{file}: {hz} Hz at amplitude {measured:F4}, expected {amplitude}");
        }
        double absent = ToneMeter.Amplitude(audio.Samples, audio.SampleRate, AbsentHz, from, to);
        Assert.IsLessThan(0.01, absent, $"{file}: {AbsentHz} Hz at amplitude {absent:F4}, where nothing was encoded");
    }

    /// <summary>The committed Ogg Vorbis file with its first packet renamed to Opus's identification header.</summary>
    private static byte[] OpusInOgg()
    {
        var bytes = File.ReadAllBytes(Path.Combine(AudioDir, OggMono));
        int packet = 27 + bytes[26];
        "OpusHead"u8.CopyTo(bytes.AsSpan(packet));
        return bytes;
    }
}
