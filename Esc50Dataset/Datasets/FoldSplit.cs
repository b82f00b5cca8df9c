using System.Globalization;
using System.Text;
using CsvHelper;

namespace EnvNet.Esc50Dataset.Datasets;

/// <summary>
/// The folds the program makes for a dataset without its own (class folders, a list without a fold column):
/// stratified (each class dealt round the folds in a seeded random order, so every fold gets its share of every
/// class) and recorded in the run folder as <see cref="FileName"/> (path,fold per clip), so that a resumed run and
/// <c>envnet evaluate</c> use the split the run started with, whatever files were added since.
/// </summary>
public static class FoldSplit
{
    public const string FileName = "folds.csv";
    public const int DefaultFoldCount = 5;
    public const int MinFoldCount = 2;
    public const int MaxFoldCount = 100;

    private static readonly string[] Columns = ["path", "fold"];

    /// <summary>The fold of each clip, by name: class by class, the clips in a random order drawn from
    /// (<paramref name="seed"/>, label) take folds 1, 2, ... in turn, each class starting where the previous one
    /// stopped, so fold sizes differ by at most one.</summary>
    public static Dictionary<string, int> Make(IReadOnlyList<(string Name, int Label)> clips, int foldCount, int seed)
    {
        if (foldCount < MinFoldCount || foldCount > MaxFoldCount)
            throw new ArgumentOutOfRangeException(nameof(foldCount), foldCount, $"expected {MinFoldCount}..{MaxFoldCount}");
        var folds = new Dictionary<string, int>(StringComparer.Ordinal);
        int next = 0;
        foreach (var group in clips.GroupBy(c => c.Label).OrderBy(g => g.Key))
        {
            var names = group.Select(c => c.Name).Order(StringComparer.Ordinal).ToArray();
            var random = ExampleRandom.ForEpoch(seed, group.Key);
            for (int i = names.Length - 1; i > 0; i--)
            {
                int j = random.NextInt(i + 1);
                (names[i], names[j]) = (names[j], names[i]);
            }
            foreach (var name in names)
                folds.Add(name, next++ % foldCount + 1);
        }
        return folds;
    }

    /// <summary>The recorded form of the folds of <paramref name="clips"/>: a header and one path,fold row per clip.</summary>
    public static string ToCsv(IEnumerable<DatasetClip> clips)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        using (var csv = CsvWriter.Create(text, new CsvWriterOptions { NewLine = "\n" }, leaveOpen: true))
        {
            csv.WriteHeader(Columns);
            foreach (var clip in clips.OrderBy(c => c.Name, StringComparer.Ordinal))
                csv.WriteRecord([clip.Name, clip.Fold.ToString(CultureInfo.InvariantCulture)]);
        }
        return text.ToString();
    }

    /// <summary>Reads a split written by <see cref="ToCsv"/>; every row must name a clip once and give a fold 1..<paramref name="foldCount"/>.</summary>
    public static Dictionary<string, int> Read(string path, int foldCount)
    {
        var folds = new Dictionary<string, int>(StringComparer.Ordinal);
        MetadataCsv.Read(path, Columns, $"the split this run recorded at its start ({FileName})", row =>
        {
            if (folds.ContainsKey(row[0]))
                return $"path '{MetadataCsv.Shown(row[0])}' is listed twice";
            if (!int.TryParse(row[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var fold) || fold < 1 || fold > foldCount)
                return $"fold '{MetadataCsv.Shown(row[1])}' is not an integer 1..{foldCount}";
            folds.Add(row[0], fold);
            return null;
        }, skipBad: false, log: null);
        return folds;
    }

    /// <summary>The folds of <paramref name="clips"/> (name and label): those of <paramref name="recorded"/> when a run
    /// recorded its split (a clip it does not list is left out and logged; one it lists that is gone is an error),
    /// else made afresh. Returns the clips kept with their folds.</summary>
    internal static IReadOnlyList<(T Clip, int Fold)> Assign<T>(IReadOnlyList<T> clips, Func<T, (string Name, int Label)> key, string datasetPath,
        DatasetLoadOptions options)
    {
        if (options.RecordedSplit is not { } recorded)
        {
            var made = Make(clips.Select(key).ToList(), options.FoldCount, options.Seed);
            return clips.Select(c => (c, made[key(c).Name])).ToList();
        }
        var names = clips.Select(c => key(c).Name).ToHashSet(StringComparer.Ordinal);
        var gone = recorded.Keys.Where(n => !names.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (gone.Count > 0)
            throw new DatasetException(
                $"{datasetPath}: {gone.Count} clips of the run's recorded split ({FileName}) are gone, e.g. {MetadataCsv.Shown(gone[0], MetadataCsv.MaxShownHeader)}; " +
                "the split must stay as the run made it");
        var kept = new List<(T, int)>();
        foreach (var clip in clips)
        {
            if (recorded.TryGetValue(key(clip).Name, out var fold))
                kept.Add((clip, fold));
            else
                options.Log?.Invoke($"{key(clip).Name}: not in the run's recorded split ({FileName}), left out");
        }
        return kept;
    }
}
