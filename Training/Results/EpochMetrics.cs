using CsvHelper;

namespace EnvNet.Training.Results;

/// <summary>One row of metrics.csv: a finished epoch of one fold. Accuracies are fractions in [0, 1]. The training
/// numbers are over the epoch's training examples: loss the mean KL divergence from the target rows, accuracy the
/// share whose argmax of logits is the argmax of the target (with between-class mixes, the larger share's class).
/// The validation numbers come from the test-crop averaged class probabilities of each validation clip.</summary>
[CsvRecord]
public sealed partial record EpochMetrics
{
    [CsvColumn("fold")] public int Fold { get; init; }
    [CsvColumn("epoch")] public int Epoch { get; init; }
    [CsvColumn("learning_rate")] public double LearningRate { get; init; }
    [CsvColumn("train_loss")] public double TrainLoss { get; init; }
    [CsvColumn("train_accuracy")] public double TrainAccuracy { get; init; }
    [CsvColumn("validation_loss")] public double ValidationLoss { get; init; }
    [CsvColumn("validation_accuracy")] public double ValidationAccuracy { get; init; }
    [CsvColumn("epoch_seconds")] public double EpochSeconds { get; init; }
    [CsvColumn("samples_per_second")] public double SamplesPerSecond { get; init; }
}

/// <summary>
/// metrics.csv of a run folder. Each epoch's row is appended and flushed to disk as soon as the epoch ends, so the
/// file can be watched (and plotted) while training runs and survives a kill.
/// </summary>
public sealed class MetricsFile(string path)
{
    public string Path { get; } = path;

    /// <summary>RFC 4180 CSV with Unix line endings, numbers in invariant culture as the shortest round-trip text.</summary>
    public static readonly CsvWriterOptions CsvOptions = CsvWriterOptions.Default with { NewLine = "\n" };

    public void Append(EpochMetrics row)
    {
        var writeHeader = !File.Exists(Path) || new FileInfo(Path).Length == 0;
        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        using (var csv = CsvWriter.Create(stream, CsvOptions, leaveOpen: true))
        {
            if (writeHeader) csv.WriteHeader<EpochMetrics>();
            csv.WriteRecord(row);
        }
        stream.Flush(flushToDisk: true);
    }

    public IReadOnlyList<EpochMetrics> ReadAll() => File.Exists(Path) ? Read(Path) : [];

    public static IReadOnlyList<EpochMetrics> Read(string path)
    {
        try
        {
            using var csv = CsvReader.FromFile(path);
            return csv.GetRecords<EpochMetrics>().ToList();
        }
        catch (Exception e) when (e is CsvFormatException or KeyNotFoundException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a metrics file written by envnet ({e.Message}).");
        }
    }

    /// <summary>Keeps the rows of <paramref name="fold"/> up to <paramref name="lastEpoch"/> (and every row of the
    /// other folds), rewriting the file atomically. A resumed fold calls this with the epoch of its checkpoint, so
    /// rows written after the checkpoint are dropped and then written again by the resumed run, never twice.</summary>
    public void TruncateFold(int fold, int lastEpoch)
    {
        var rows = ReadAll();
        var kept = rows.Where(r => r.Fold != fold || r.Epoch <= lastEpoch).ToList();
        if (kept.Count == rows.Count) return;
        Write(Path, kept);
    }

    /// <summary>Writes <paramref name="rows"/> as a whole metrics file, atomically.</summary>
    public static void Write(string path, IEnumerable<EpochMetrics> rows) => Checkpoints.AtomicFile.Write(path, stream =>
    {
        using var csv = CsvWriter.Create(stream, CsvOptions, leaveOpen: true);
        csv.WriteHeader<EpochMetrics>();
        foreach (var row in rows) csv.WriteRecord(row);
    });
}
