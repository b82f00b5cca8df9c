using System.Globalization;
using EnvNet.Esc50Dataset.Datasets;
using static EnvNet.Esc50Dataset.Datasets.MetadataCsv;

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
        var clips = new List<ClipInfo>();
        var categoryOfTarget = new Dictionary<int, (string Category, int Row)>();
        var targetOfCategory = new Dictionary<string, int>(StringComparer.Ordinal);
        var rowOfFile = new Dictionary<string, int>(StringComparer.Ordinal);
        var skipped = MetadataCsv.Read(csvPath, Columns, $"an ESC-50 folder with {CsvRelativePath} and {AudioFolder}/", row =>
        {
            var problem = ValidateRow(row, datasetDir, categoryOfTarget, targetOfCategory, rowOfFile, out var clip);
            if (clip is not null)
                clips.Add(clip);
            return problem;
        }, skipBad, log);
        if (clips.Count == 0)
            throw new DatasetException($"{csvPath}: no usable rows{(skipped.Count > 0 ? $" ({skipped.Count} bad rows skipped)" : "")}");
        return new Esc50Metadata(datasetDir, clips, skipped);
    }

    /// <summary>This dataset in the form training reads, with the classes of <paramref name="subset"/> (all 50 by default).</summary>
    public SoundDataset ToDataset(Esc50Subset? subset = null)
    {
        subset ??= Esc50Subset.Esc50;
        var chosen = subset.Of(this);
        var clips = chosen.Clips.Select(c => new DatasetClip(c.FileName, chosen.AudioPath(c), chosen.LabelOf(c), c.Fold, c.SourceFile,
            $"{CsvRelativePath} row {c.Row}")).ToArray();
        return new SoundDataset(DatasetKind.Esc50, subset == Esc50Subset.Esc10 ? "ESC-10" : "ESC-50", DatasetDir, clips, chosen.ClassNames,
            Folds, chosen.SkippedReasons);
    }

    /// <summary>Checks one data row; returns what is wrong with it, or null and the clip.</summary>
    private static string? ValidateRow(MetadataCsv.Row fields, string datasetDir,
        Dictionary<int, (string Category, int Row)> categoryOfTarget, Dictionary<string, int> targetOfCategory,
        Dictionary<string, int> rowOfFile, out ClipInfo? clip)
    {
        clip = null;
        int row = fields.Line;
        string Field(int column) => fields[column];

        var fileName = Field(0);
        var shownName = Shown(fileName);
        if (!MetadataCsv.IsPlainFileName(fileName))
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
            return $"audio file {Shown(audioPath, MetadataCsv.MaxShownHeader)} does not exist";

        categoryOfTarget.TryAdd(target, (category, row));
        targetOfCategory.TryAdd(category, target);
        rowOfFile.Add(fileName, row);
        clip = new ClipInfo(row, fileName, fold, target, category, esc10, Field(5), Field(6));
        return null;
    }
}
