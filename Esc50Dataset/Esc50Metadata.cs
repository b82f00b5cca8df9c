using System.Globalization;
using CsvHelper;

namespace EnvNet.Esc50Dataset;

/// <summary>One row of meta/esc50.csv. <paramref name="Row"/> is its line in the file (the header is line 1).</summary>
public sealed record ClipInfo(int Row, string FileName, int Fold, int Target, string Category, bool Esc10, string SourceFile, string Take);

/// <summary>
/// The validated contents of an ESC-50 style dataset folder: meta/esc50.csv and audio/*.wav.
/// Classes are the targets present, in ascending target order: a clip's label is the rank of its target, so the
/// full ESC-50 keeps its targets 0..49 as labels and a subset (ESC-10, or a sample of a few classes) gets labels 0..K-1.
/// </summary>
public sealed class Esc50Metadata
{
    public const string CsvRelativePath = "meta/esc50.csv";
    public const string AudioFolder = "audio";
    public const int Folds = 5;

    /// <summary>Every fold, 1 to <see cref="Folds"/>: what a cross-validation trains.</summary>
    public static int[] AllFolds => [.. Enumerable.Range(1, Folds)];
    public const int MaxTarget = 49;
    public const int Esc10ClassCount = 10;

    /// <summary>The CSV columns, all required, in the order of the original file; the ESC-10 column bears the subset's name.</summary>
    public static readonly IReadOnlyList<string> Columns = ["filename", "fold", "target", "category", Esc50Subset.Esc10.Name, "src_file", "take"];

    private const long MaxCsvBytes = 64L << 20; // the real file is 100 KB; bounds keep a damaged one from filling memory
    private const int MaxRecordBytes = 64 << 10;
    private const int MaxShownField = 60; // errors quote fields up to this many characters, headers and paths up to 200
    private const int MaxShownHeader = 200;

    private readonly Dictionary<int, int> labelOfTarget;

    private Esc50Metadata(string datasetDir, IReadOnlyList<ClipInfo> clips, IReadOnlyList<string> skippedReasons)
    {
        DatasetDir = datasetDir;
        Clips = clips;
        SkippedReasons = skippedReasons;
        var classes = clips.GroupBy(c => c.Target).OrderBy(g => g.Key).ToList();
        ClassTargets = classes.Select(g => g.Key).ToArray();
        ClassNames = classes.Select(g => g.First().Category).ToArray();
        labelOfTarget = ClassTargets.Select((target, label) => (target, label)).ToDictionary(p => p.target, p => p.label);
    }

    public string DatasetDir { get; }
    public IReadOnlyList<ClipInfo> Clips { get; }

    /// <summary>Category name of each label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The ESC-50 target of each label, ascending.</summary>
    public IReadOnlyList<int> ClassTargets { get; }

    public int ClassCount => ClassNames.Count;

    /// <summary>Rows left out by <c>skipBad</c>, one reason each (file, row and what was wrong).</summary>
    public IReadOnlyList<string> SkippedReasons { get; }

    public int LabelOf(ClipInfo clip) => labelOfTarget.TryGetValue(clip.Target, out var label)
        ? label
        : throw new DatasetException($"{clip.FileName} ({CsvRelativePath} row {clip.Row}): target {clip.Target} is not a class of this dataset");

    public string AudioPath(ClipInfo clip) => Path.Combine(DatasetDir, AudioFolder, clip.FileName);

    /// <summary>
    /// The ESC-10 subset (rows with esc10 = True), relabelled 0..9 in ascending ESC-50 target order. For ESC-50
    /// that order is: 0 dog (target 0), 1 rooster (1), 2 rain (10), 3 sea_waves (11), 4 crackling_fire (12),
    /// 5 crying_baby (20), 6 sneezing (21), 7 clock_tick (38), 8 helicopter (40), 9 chainsaw (41).
    /// </summary>
    public Esc50Metadata Esc10()
    {
        var subset = new Esc50Metadata(DatasetDir, Clips.Where(c => c.Esc10).ToArray(), SkippedReasons);
        if (subset.ClassCount != Esc10ClassCount)
            throw new DatasetException(
                $"{Path.Combine(DatasetDir, CsvRelativePath)}: the rows with esc10 = True cover {subset.ClassCount} classes, expected {Esc10ClassCount}");
        return subset;
    }

    /// <summary>
    /// Reads and validates <c>meta/esc50.csv</c> of <paramref name="datasetDir"/>: every column present, folds 1..5,
    /// targets 0..49 with one category name each (and one target per name), file names unique and present in
    /// <c>audio/</c>. A missing or unreadable CSV or a missing column always throws. A bad row throws too, unless
    /// <paramref name="skipBad"/> is set: then it is left out, logged and listed in <see cref="SkippedReasons"/>.
    /// </summary>
    public static Esc50Metadata Load(string datasetDir, bool skipBad = false, Action<string>? log = null)
    {
        var csvPath = Path.Combine(datasetDir, CsvRelativePath);
        var csvFile = new FileInfo(csvPath);
        if (!csvFile.Exists)
            throw new DatasetException($"{csvPath}: metadata file does not exist (expected an ESC-50 folder with {CsvRelativePath} and {AudioFolder}/)");
        if (csvFile.Length > MaxCsvBytes)
            throw new DatasetException($"{csvPath}: {csvFile.Length} bytes, more than the {MaxCsvBytes >> 20} MiB a metadata file may have");

        var clips = new List<ClipInfo>();
        var skipped = new List<string>();
        var categoryOfTarget = new Dictionary<int, (string Category, int Row)>();
        var targetOfCategory = new Dictionary<string, int>(StringComparer.Ordinal);
        var rowOfFile = new Dictionary<string, int>(StringComparer.Ordinal);

        try
        {
            using var csv = CsvReader.FromFile(csvPath, new CsvReaderOptions
            {
                Separator = ',',
                TrimWhitespace = true,
                TrackLineNumbers = true,
                MalformedData = CsvMalformedDataHandling.Throw,
                MaxRecordSize = MaxRecordBytes,
            });
            var header = csv.Headers.ToArray();
            var columnIndex = new int[Columns.Count];
            for (int c = 0; c < Columns.Count; c++)
            {
                columnIndex[c] = Array.IndexOf(header, Columns[c]);
                if (columnIndex[c] < 0)
                    throw new DatasetException(
                        $"{csvPath}: missing column '{Columns[c]}' (header has {Shown(string.Join(", ", header), MaxShownHeader)}; expected {string.Join(", ", Columns)})");
            }

            while (csv.Read())
            {
                int row = (int)csv.LineNumber;
                var fields = new string[csv.FieldCount];
                for (int f = 0; f < fields.Length; f++)
                    fields[f] = csv.GetString(f);
                var problem = ValidateRow(fields, columnIndex, datasetDir, categoryOfTarget, targetOfCategory, rowOfFile, row, out var clip);
                if (problem is null)
                {
                    clips.Add(clip!);
                    continue;
                }
                var reason = $"{csvPath} row {row}: {problem}";
                if (!skipBad)
                    throw new DatasetException(reason);
                skipped.Add(reason);
                log?.Invoke($"skipping bad row: {reason}");
            }
        }
        catch (CsvFormatException e)
        {
            throw new DatasetException($"{csvPath} row {e.LineNumber}: malformed CSV ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new DatasetException($"{csvPath}: cannot be read ({e.Message})", e);
        }

        if (clips.Count == 0)
            throw new DatasetException($"{csvPath}: no usable rows{(skipped.Count > 0 ? $" ({skipped.Count} bad rows skipped)" : "")}");
        return new Esc50Metadata(datasetDir, clips, skipped);
    }

    /// <summary>Checks one data row; returns what is wrong with it, or null and the clip.</summary>
    private static string? ValidateRow(string[] fields, int[] columnIndex, string datasetDir,
        Dictionary<int, (string Category, int Row)> categoryOfTarget, Dictionary<string, int> targetOfCategory,
        Dictionary<string, int> rowOfFile, int row, out ClipInfo? clip)
    {
        clip = null;
        if (fields.Length < columnIndex.Max() + 1)
            return $"has {fields.Length} fields, expected at least {columnIndex.Max() + 1} (columns {string.Join(", ", Columns)})";
        string Field(int column) => fields[columnIndex[column]];

        var fileName = Field(0);
        var shownName = Shown(fileName);
        if (fileName.Length == 0 || Path.GetFileName(fileName) != fileName || fileName is "." or ".."
            || fileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            return $"filename '{shownName}' is not a plain file name (expected e.g. 1-100032-A-0.wav)";
        if (rowOfFile.TryGetValue(fileName, out var firstRow))
            return $"filename '{shownName}' is listed again (first at row {firstRow})";
        if (!int.TryParse(Field(1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var fold) || fold < 1 || fold > Folds)
            return $"fold '{Shown(Field(1))}' of {shownName} is not an integer 1..{Folds}";
        if (!int.TryParse(Field(2), NumberStyles.Integer, CultureInfo.InvariantCulture, out var target) || target < 0 || target > MaxTarget)
            return $"target '{Shown(Field(2))}' of {shownName} is not an integer 0..{MaxTarget}";
        var category = Field(3);
        if (category.Length == 0)
            return $"category of {shownName} is empty";
        if (categoryOfTarget.TryGetValue(target, out var known) && known.Category != category)
            return $"category '{Shown(category)}' of {shownName} differs from '{Shown(known.Category)}' given to target {target} at row {known.Row}";
        if (targetOfCategory.TryGetValue(category, out var knownTarget) && knownTarget != target)
            return $"category '{Shown(category)}' of {shownName} has target {target}, but target {knownTarget} elsewhere";
        if (!bool.TryParse(Field(4), out var esc10))
            return $"esc10 '{Shown(Field(4))}' of {shownName} is not True or False";
        var audioPath = Path.Combine(datasetDir, AudioFolder, fileName);
        if (!File.Exists(audioPath))
            return $"audio file {Shown(audioPath, MaxShownHeader)} does not exist";

        categoryOfTarget.TryAdd(target, (category, row));
        targetOfCategory.TryAdd(category, target);
        rowOfFile.Add(fileName, row);
        clip = new ClipInfo(row, fileName, fold, target, category, esc10, Field(5), Field(6));
        return null;
    }

    /// <summary>A value as an error quotes it: control characters escaped and long values cut, so that a damaged
    /// field (a 70,000-character run, a quoted line break) still gives a one-line message of readable length.</summary>
    private static string Shown(string value, int maxLength = MaxShownField)
    {
        var shown = string.Concat(value.Take(maxLength).Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
        return value.Length > maxLength ? $"{shown}... ({value.Length} characters)" : shown;
    }
}
