using System.Globalization;
using CsvHelper;
using NAudio.Wave;

namespace EnvNet.Esc50Dataset;

/// <summary>
/// A synthetic twin of ESC-50 in its exact layout (audio/{fold}-{srcid}-{take}-{target}.wav as 44.1 kHz 16-bit mono
/// 5 s clips, meta/esc50.csv with all columns), so that the real loader is exercised and a tiny EnvNet can learn it
/// in a few epochs without the real data. Classes cycle through five sound families (steady harmonic tone, repeated
/// octave chirp, band of noise, train of ringing clicks, warbling tone) and, past five classes, through frequency
/// bands spaced evenly in octaves from 300 Hz to 2.4 kHz, so classes differ in kind or band. Each clip varies within
/// its class: pitch within the class band, onset, length, level (-20..-3 dBFS peak), added noise (15..35 dB SNR),
/// and half of the clips have exact digital silence before and after the sound instead of background noise.
/// Clips with targets 0..9 are marked esc10. The same arguments always write the same files.
/// </summary>
public static class SyntheticEsc50
{
    public const int DefaultClasses = 10;

    /// <summary>4 per fold gives 16 training clips per class in every split (160 for 10 classes): enough for a tiny
    /// EnvNet to reach well above chance in a few epochs, while writing and loading take seconds.</summary>
    public const int DefaultClipsPerClassPerFold = 4;

    public const int SampleRate = 44_100;
    public const int ClipSamples = 5 * SampleRate;

    public static readonly IReadOnlyList<string> Families = ["tone", "chirp", "noise_band", "click_train", "warble"];

    private const double LowestBandHz = 300;
    private const double BandSpanOctaves = 3; // 300 Hz to 2.4 kHz: harmonics stay inside EnvNet's 8 kHz band at 16 kHz

    /// <param name="clipsDone">Called, from the writing threads, with the number of clips written so far (for progress).</param>
    /// <param name="cancel">Stops after the clips being written (an <see cref="OperationCanceledException"/>).</param>
    public static void Write(string outDir, int classes, int clipsPerClassPerFold, int seed, Action<int>? clipsDone = null,
        CancellationToken cancel = default)
    {
        if (classes < 1 || classes > Esc50Metadata.MaxTarget + 1)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"expected 1..{Esc50Metadata.MaxTarget + 1}");
        if (clipsPerClassPerFold < 1 || clipsPerClassPerFold > 1000)
            throw new ArgumentOutOfRangeException(nameof(clipsPerClassPerFold), clipsPerClassPerFold, "expected 1..1000");
        var audioDir = Path.Combine(outDir, Esc50Metadata.AudioFolder);
        Directory.CreateDirectory(audioDir);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(outDir, Esc50Metadata.CsvRelativePath))!);

        var rows = new List<ClipInfo>();
        for (int target = 0; target < classes; target++)
            for (int fold = 1; fold <= Esc50Metadata.Folds; fold++)
                for (int i = 0; i < clipsPerClassPerFold; i++)
                {
                    int clipNumber = (target * Esc50Metadata.Folds + fold - 1) * clipsPerClassPerFold + i;
                    int sourceId = 100_000 + clipNumber;
                    rows.Add(new ClipInfo(0, $"{fold}-{sourceId}-A-{target}.wav", fold, target, CategoryName(target, classes),
                        target < Esc50Metadata.Esc10ClassCount, sourceId.ToString(CultureInfo.InvariantCulture), "A"));
                }

        var written = 0;
        Parallel.For(0, rows.Count, new ParallelOptions { CancellationToken = cancel }, n =>
        {
            // one generator per clip, so the files do not depend on the order they are written in
            var random = ExampleRandom.ForExample(seed, rows[n].Target, n);
            WriteWav(Path.Combine(audioDir, rows[n].FileName), Synthesize(rows[n].Target, classes, ref random));
            clipsDone?.Invoke(Interlocked.Increment(ref written));
        });
        WriteCsv(Path.Combine(outDir, Esc50Metadata.CsvRelativePath), rows.OrderBy(r => r.FileName, StringComparer.Ordinal));
    }

    /// <summary>The category of a target: its family and, past five classes, its band ("chirp_2").</summary>
    public static string CategoryName(int target, int classes) =>
        classes <= Families.Count ? Families[target] : $"{Families[target % Families.Count]}_{target / Families.Count}";

    /// <summary>One 5 s clip of a class at 44.1 kHz, in [-1, 1].</summary>
    public static float[] Synthesize(int target, int classes, ref ExampleRandom random)
    {
        int bands = (classes + Families.Count - 1) / Families.Count;
        int band = target / Families.Count;
        double bandSpacing = bands == 1 ? BandSpanOctaves : BandSpanOctaves / (bands - 1);
        double bandCenter = bands == 1 ? 1000 : LowestBandHz * Math.Pow(2, band * bandSpacing);
        double pitch = bandCenter * Math.Pow(2, (2 * random.NextDouble() - 1) * Math.Min(0.3, 0.35 * bandSpacing));

        bool silentEdges = random.NextDouble() < 0.5;
        double onset = silentEdges ? 0.8 * random.NextDouble() : 0.3 * random.NextDouble();
        double length = silentEdges ? 3 + (5 - 3 - onset) * random.NextDouble() : 5 - onset;
        int start = (int)(onset * SampleRate);
        int count = Math.Min((int)(length * SampleRate), ClipSamples - start);

        var sound = new double[count];
        switch (target % Families.Count)
        {
            case 0: HarmonicTone(sound, pitch, ref random); break;
            case 1: OctaveChirps(sound, pitch, 0.15 + 0.15 * random.NextDouble()); break;
            case 2: NoiseBand(sound, pitch, ref random); break;
            case 3: ClickTrain(sound, pitch, 6 + 6 * random.NextDouble(), ref random); break;
            default: Warble(sound, pitch, 5 + 3 * random.NextDouble(), 3 + 3 * random.NextDouble()); break;
        }
        Fade(sound, SampleRate / 100);

        double peak = sound.Max(Math.Abs);
        double level = Math.Pow(10, (-20 + 17 * random.NextDouble()) / 20) / peak;
        double rms = Math.Sqrt(sound.Sum(s => s * s) / count) * level;
        double noiseRms = rms * Math.Pow(10, -(15 + 20 * random.NextDouble()) / 20);

        var clip = new float[ClipSamples];
        for (int i = 0; i < ClipSamples; i++)
        {
            int j = i - start;
            bool inSound = j >= 0 && j < count;
            if (!inSound && silentEdges)
                continue; // exact digital silence, which the loader trims
            double value = (inSound ? sound[j] * level : 0) + noiseRms * Gaussian(ref random);
            clip[i] = (float)Math.Clamp(value, -1, 1);
        }
        return clip;
    }

    private static void HarmonicTone(double[] sound, double pitch, ref ExampleRandom random)
    {
        for (int h = 1; h <= 4; h++)
        {
            double phase = 2 * Math.PI * random.NextDouble();
            double step = 2 * Math.PI * h * pitch / SampleRate;
            for (int i = 0; i < sound.Length; i++)
                sound[i] += Math.Sin(phase + step * i) / h;
        }
    }

    /// <summary>Sweeps from pitch up one octave, again and again, each sweep lasting <paramref name="period"/> s.</summary>
    private static void OctaveChirps(double[] sound, double pitch, double period)
    {
        double phase = 0;
        for (int i = 0; i < sound.Length; i++)
        {
            double t = (double)i / SampleRate;
            phase += 2 * Math.PI * pitch * Math.Pow(2, t / period - Math.Floor(t / period)) / SampleRate;
            sound[i] = Math.Sin(phase);
        }
    }

    /// <summary>White noise through two band-pass biquads (Q 3) centred on the pitch.</summary>
    private static void NoiseBand(double[] sound, double pitch, ref ExampleRandom random)
    {
        for (int i = 0; i < sound.Length; i++)
            sound[i] = Gaussian(ref random);
        for (int pass = 0; pass < 2; pass++)
            BandPass(sound, pitch, 3);
    }

    /// <summary>Clicks at <paramref name="rate"/> per second (with jittered timing), each a decaying ring at the pitch.</summary>
    private static void ClickTrain(double[] sound, double pitch, double rate, ref ExampleRandom random)
    {
        int ringSamples = SampleRate / 20;
        double decay = Math.Exp(-1.0 / (0.008 * SampleRate));
        double step = 2 * Math.PI * pitch / SampleRate;
        for (double t = 0.02 * random.NextDouble(); t * SampleRate < sound.Length; t += (0.9 + 0.2 * random.NextDouble()) / rate)
        {
            int at = (int)(t * SampleRate);
            double envelope = 1;
            for (int k = 0; k < ringSamples && at + k < sound.Length; k++, envelope *= decay)
                sound[at + k] += envelope * Math.Sin(step * k);
        }
    }

    /// <summary>A tone with 8 % vibrato at <paramref name="vibratoHz"/> and deep tremolo at <paramref name="tremoloHz"/>.</summary>
    private static void Warble(double[] sound, double pitch, double vibratoHz, double tremoloHz)
    {
        double phase = 0;
        for (int i = 0; i < sound.Length; i++)
        {
            double t = (double)i / SampleRate;
            phase += 2 * Math.PI * pitch * (1 + 0.08 * Math.Sin(2 * Math.PI * vibratoHz * t)) / SampleRate;
            sound[i] = Math.Sin(phase) * (0.55 + 0.45 * Math.Sin(2 * Math.PI * tremoloHz * t));
        }
    }

    /// <summary>RBJ cookbook band-pass (constant 0 dB peak gain), in place.</summary>
    private static void BandPass(double[] x, double centre, double q)
    {
        double w = 2 * Math.PI * centre / SampleRate, alpha = Math.Sin(w) / (2 * q), a0 = 1 + alpha;
        double b0 = alpha / a0, b2 = -alpha / a0, a1 = -2 * Math.Cos(w) / a0, a2 = (1 - alpha) / a0;
        double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double y = b0 * x[i] + b2 * x2 - a1 * y1 - a2 * y2;
            x2 = x1; x1 = x[i]; y2 = y1; y1 = y;
            x[i] = y;
        }
    }

    private static void Fade(double[] sound, int samples)
    {
        for (int i = 0; i < Math.Min(samples, sound.Length / 2); i++)
        {
            double gain = (double)i / samples;
            sound[i] *= gain;
            sound[^(i + 1)] *= gain;
        }
    }

    private static double Gaussian(ref ExampleRandom random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static void WriteWav(string path, float[] clip)
    {
        var pcm = new short[clip.Length];
        for (int i = 0; i < clip.Length; i++)
            pcm[i] = (short)Math.Round(clip[i] * short.MaxValue);
        using var writer = new WaveFileWriter(path, new WaveFormat(SampleRate, 16, 1));
        writer.WriteSamples(pcm, 0, pcm.Length);
    }

    private static void WriteCsv(string path, IEnumerable<ClipInfo> rows)
    {
        using var stream = File.Create(path);
        using var csv = CsvWriter.Create(stream, new CsvWriterOptions { NewLine = "\n" });
        csv.WriteHeader(Esc50Metadata.Columns.ToArray());
        foreach (var r in rows)
            csv.WriteRecord([r.FileName, r.Fold.ToString(CultureInfo.InvariantCulture), r.Target.ToString(CultureInfo.InvariantCulture),
                r.Category, r.Esc10 ? "True" : "False", r.SourceFile, r.Take]);
    }
}
