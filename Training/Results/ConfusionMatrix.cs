using CsvHelper;

namespace EnvNet.Training.Results;

/// <summary>Counts of (true class, predicted class) over validation clips. confusion.csv has one row per true
/// class and one column per predicted class, both labelled with the class names.</summary>
public sealed class ConfusionMatrix
{
    public IReadOnlyList<string> ClassNames { get; }
    private readonly long[,] _counts;

    public ConfusionMatrix(IReadOnlyList<string> classNames)
    {
        ClassNames = classNames;
        _counts = new long[classNames.Count, classNames.Count];
    }

    public long this[int actual, int predicted] => _counts[actual, predicted];

    public void Add(int actual, int predicted, long count = 1) => _counts[actual, predicted] += count;

    public long Total => _counts.Cast<long>().Sum();

    public double Accuracy => Total == 0 ? 0 : Enumerable.Range(0, ClassNames.Count).Sum(i => _counts[i, i]) / (double)Total;

    public void Add(ConfusionMatrix other)
    {
        if (!other.ClassNames.SequenceEqual(ClassNames))
            throw new InvalidDataException("Cannot add confusion matrices over different classes.");
        for (var i = 0; i < ClassNames.Count; i++)
            for (var j = 0; j < ClassNames.Count; j++)
                _counts[i, j] += other._counts[i, j];
    }

    public void Write(string path) => Checkpoints.AtomicFile.Write(path, stream =>
    {
        using var csv = CsvWriter.Create(stream, MetricsFile.CsvOptions, leaveOpen: true);
        csv.WriteHeader(["true\\predicted", .. ClassNames]);
        for (var i = 0; i < ClassNames.Count; i++)
        {
            csv.WriteField(ClassNames[i]);
            for (var j = 0; j < ClassNames.Count; j++) csv.WriteField(_counts[i, j], "");
            csv.EndRecord();
        }
    });

    public static ConfusionMatrix Read(string path)
    {
        try
        {
            using var csv = CsvReader.FromFile(path);
            var names = csv.Headers.ToArray().Skip(1).ToArray();
            var matrix = new ConfusionMatrix(names);
            var row = 0;
            while (csv.Read())
            {
                if (row >= names.Length) throw new InvalidDataException($"{path}: more rows than the {names.Length} classes of the header.");
                if (csv.GetString(0) != names[row])
                    throw new InvalidDataException($"{path}: row {row + 2} is labelled '{csv.GetString(0)}', expected '{names[row]}'.");
                for (var j = 0; j < names.Length; j++) matrix.Add(row, j, csv.Parse<long>(j + 1));
                row++;
            }
            if (row != names.Length) throw new InvalidDataException($"{path}: {row} rows for {names.Length} classes.");
            return matrix;
        }
        catch (Exception e) when (e is CsvFormatException or FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            throw new InvalidDataException($"{path}: not a confusion matrix written by envnet ({e.Message}).");
        }
    }
}
