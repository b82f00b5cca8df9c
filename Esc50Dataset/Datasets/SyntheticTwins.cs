using System.Globalization;
using CsvHelper;
using NAudio.Wave;

namespace EnvNet.Esc50Dataset.Datasets;

/// <summary>
/// Synthetic twins of the other dataset layouts, with <see cref="SyntheticEsc50"/>'s generated sounds, so the loaders,
/// the decoder and training are exercised without the real data. Unlike the ESC-50 twin, clips vary as the field's
/// data does: sample rates from 8 to 96 kHz, 8-, 16- and 24-bit PCM and 32-bit float, mono and stereo, and lengths
/// from a quarter of a second (shorter than every model's input, and than 1 s) to 4 s. The same arguments always
/// write the same files.
/// </summary>
public static class SyntheticTwins
{
    /// <summary>UrbanSound8K's classes, by classID.</summary>
    public static readonly IReadOnlyList<string> UrbanSound8KClasses =
        ["air_conditioner", "car_horn", "children_playing", "dog_bark", "drilling", "engine_idling", "gun_shot", "jackhammer", "siren", "street_music"];

    /// <summary>The encodings clip n cycles through: (bits, IEEE float, channels).</summary>
    public static readonly IReadOnlyList<(int Bits, bool Float, int Channels)> Encodings =
        [(16, false, 1), (8, false, 1), (24, false, 2), (32, true, 1), (16, false, 2), (24, false, 1), (32, true, 2), (8, false, 2)];

    /// <summary>The sample rates clip n cycles through (coprime in count with <see cref="Encodings"/>, so every pair occurs).</summary>
    public static readonly IReadOnlyList<int> SampleRates = [44_100, 8_000, 22_050, 16_000, 48_000, 11_025, 96_000];

    public const double MaxSeconds = 4;   // UrbanSound8K's slices are at most 4 s
    public const double ShortSeconds = 0.25; // every fourth clip: shorter than any model's input and than 1 s

    /// <summary>metadata/UrbanSound8K.csv and audio/fold1..10/: <paramref name="clipsPerClassPerFold"/> slices of each
    /// class in each fold, two slices of each recording (fsID), both in one fold.</summary>
    public static void WriteUrbanSound8K(string outDir, int classes, int clipsPerClassPerFold, int seed, Action<int>? clipsDone = null)
    {
        if (classes < 2 || classes > UrbanSound8KClasses.Count)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"expected 2..{UrbanSound8KClasses.Count}");
        CheckClipCount(clipsPerClassPerFold);
        var rows = new List<(string Name, string SourceId, int Fold, int ClassId)>();
        for (int classId = 0; classId < classes; classId++)
            for (int fold = 1; fold <= UrbanSound8KMetadata.Folds; fold++)
                for (int i = 0; i < clipsPerClassPerFold; i++)
                {
                    int recording = 100_000 + (classId * UrbanSound8KMetadata.Folds + fold - 1) * ((clipsPerClassPerFold + 1) / 2) + i / 2;
                    rows.Add(($"{recording}-{classId}-0-{i % 2}.wav", recording.ToString(CultureInfo.InvariantCulture), fold, classId));
                }
        for (int fold = 1; fold <= UrbanSound8KMetadata.Folds; fold++)
            Directory.CreateDirectory(Path.Combine(outDir, UrbanSound8KMetadata.FoldFolder(fold)));
        var seconds = WriteClips(rows.Count, seed, n => (rows[n].ClassId, classes),
            n => Path.Combine(outDir, UrbanSound8KMetadata.FoldFolder(rows[n].Fold), rows[n].Name), clipsDone);

        var csvPath = Path.Combine(outDir, UrbanSound8KMetadata.CsvRelativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(csvPath)!);
        using var stream = File.Create(csvPath);
        using var csv = CsvWriter.Create(stream, new CsvWriterOptions { NewLine = "\n" });
        csv.WriteHeader(UrbanSound8KMetadata.Columns.ToArray());
        for (int n = 0; n < rows.Count; n++)
        {
            var r = rows[n];
            csv.WriteRecord([r.Name, r.SourceId, "0.0", seconds[n].ToString("R", CultureInfo.InvariantCulture), (1 + n % 2).ToString(CultureInfo.InvariantCulture),
                r.Fold.ToString(CultureInfo.InvariantCulture), r.ClassId.ToString(CultureInfo.InvariantCulture), UrbanSound8KClasses[r.ClassId]]);
        }
    }

    /// <summary>A class-folder dataset: one sub-folder per class (named as the ESC-50 twin's categories) holding
    /// <paramref name="clipsPerClass"/> audio files.</summary>
    public static void WriteClassFolders(string outDir, int classes, int clipsPerClass, int seed, Action<int>? clipsDone = null)
    {
        if (classes < 2 || classes > Esc50Metadata.MaxTarget + 1)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"expected 2..{Esc50Metadata.MaxTarget + 1}");
        CheckClipCount(clipsPerClass);
        for (int target = 0; target < classes; target++)
            Directory.CreateDirectory(Path.Combine(outDir, SyntheticEsc50.CategoryName(target, classes)));
        WriteClips(classes * clipsPerClass, seed, n => (n / clipsPerClass, classes), n =>
        {
            var category = SyntheticEsc50.CategoryName(n / clipsPerClass, classes);
            return Path.Combine(outDir, category, $"{category}-{n % clipsPerClass:D3}.wav");
        }, clipsDone);
    }

    private static void CheckClipCount(int clips)
    {
        if (clips < 1 || clips > 1000)
            throw new ArgumentOutOfRangeException(nameof(clips), clips, "expected 1..1000");
    }

    /// <summary>Writes clip n (class and class count from <paramref name="classOf"/>) to <paramref name="pathOf"/>(n)
    /// in encoding n and rate n of the cycles; returns each clip's length in seconds.</summary>
    private static double[] WriteClips(int count, int seed, Func<int, (int Target, int Classes)> classOf, Func<int, string> pathOf, Action<int>? clipsDone)
    {
        var seconds = new double[count];
        var written = 0;
        Parallel.For(0, count, n =>
        {
            var (target, classes) = classOf(n);
            // one generator per clip, so the files do not depend on the order they are written in
            var random = ExampleRandom.ForExample(seed, target, n);
            var sound = ClipPreprocessor.TrimSilence(SyntheticEsc50.Synthesize(target, classes, ref random));
            double length = n % 4 == 3 ? ShortSeconds : 1 + (MaxSeconds - 1) * random.NextDouble();
            var cut = sound[..Math.Min(sound.Length, (int)(length * SyntheticEsc50.SampleRate))];
            int rate = SampleRates[n % SampleRates.Count];
            var samples = ClipPreprocessor.Resample(cut, SyntheticEsc50.SampleRate, rate);
            WriteWav(pathOf(n), samples, rate, Encodings[n % Encodings.Count]);
            seconds[n] = (double)samples.Length / rate;
            clipsDone?.Invoke(Interlocked.Increment(ref written));
        });
        return seconds;
    }

    /// <summary>A WAV file of <paramref name="samples"/> in the encoding given; a second channel, where there is one,
    /// carries the sound at half the level (so the mono average is never silent).</summary>
    private static void WriteWav(string path, float[] samples, int rate, (int Bits, bool Float, int Channels) encoding)
    {
        var format = encoding.Float ? WaveFormat.CreateIeeeFloatWaveFormat(rate, encoding.Channels) : new WaveFormat(rate, encoding.Bits, encoding.Channels);
        using var writer = new WaveFileWriter(path, format);
        var frame = new float[encoding.Channels];
        foreach (var sample in samples)
        {
            // 0.99: full scale would overflow NAudio's 24-bit conversion (int.MaxValue * 1f is past int's range)
            frame[0] = 0.99f * sample;
            if (encoding.Channels == 2)
                frame[1] = 0.5f * frame[0];
            foreach (var value in frame)
            {
                if (encoding.Bits == 8)
                    writer.WriteByte((byte)Math.Clamp(Math.Round(128 + 127 * value), 0, 255)); // 8-bit WAV is unsigned, centred on 128
                else
                    writer.WriteSample(value);
            }
        }
    }
}
