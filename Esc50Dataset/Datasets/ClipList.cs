using System.Globalization;
using static EnvNet.Esc50Dataset.Datasets.MetadataCsv;

namespace EnvNet.Esc50Dataset.Datasets;

/// <summary>
/// A dataset listed in a CSV file of <c>path,label[,fold]</c>: each path relative to the CSV's folder (or absolute),
/// each label a class name; classes are the labels in ordinal order. With a fold column its folds are used as
/// they are (1 to the chosen fold count, every fold non-empty); without, they are made (<see cref="FoldSplit"/>).
/// </summary>
public static class ClipList
{
    public static readonly IReadOnlyList<string> Columns = ["path", "label"];
    public const string FoldColumn = "fold";

    public static SoundDataset Load(string csvPath, DatasetLoadOptions options)
    {
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        var rows = new List<(string Name, string Path, string Label, int? Fold, int Line)>();
        var lineOfPath = new Dictionary<string, int>(StringComparer.Ordinal);
        var hasFolds = (bool?)null;
        var skipped = MetadataCsv.Read(csvPath, Columns, $"a CSV file with the columns {string.Join(",", Columns)}[,{FoldColumn}]", row =>
        {
            var path = row[0];
            if (path.Length == 0 || path.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
                return $"path '{Shown(path)}' is not a file path";
            if (lineOfPath.TryGetValue(path, out var first))
                return $"path '{Shown(path)}' is listed again (first at row {first})";
            if (row[1].Length == 0)
                return $"label of {Shown(path)} is empty";
            int? fold = null;
            if (row[2].Length > 0)
            {
                if (!int.TryParse(row[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var f) || f < 1 || f > options.FoldCount)
                    return $"fold '{Shown(row[2])}' of {Shown(path)} is not an integer 1..{options.FoldCount} (the fold count)";
                fold = f;
            }
            if (hasFolds is { } listed && listed != fold.HasValue)
                return $"fold of {Shown(path)} is {(fold.HasValue ? "given" : "empty")}, but {(listed ? "given" : "empty")} in the rows before: give every row a fold or none";
            var audioPath = Path.GetFullPath(Path.Combine(baseDir, path));
            if (!File.Exists(audioPath))
                return $"audio file {Shown(audioPath, MaxShownHeader)} does not exist";
            hasFolds = fold.HasValue;
            lineOfPath.Add(path, row.Line);
            rows.Add((path, audioPath, row[1], fold, row.Line));
            return null;
        }, options.SkipBad, options.Log, optionalColumns: [FoldColumn]);
        if (rows.Count == 0)
            throw new DatasetException($"{csvPath}: no usable rows{(skipped.Count > 0 ? $" ({skipped.Count} bad rows skipped)" : "")}");

        var classNames = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToArray();
        var labelOf = classNames.Select((name, label) => (name, label)).ToDictionary(p => p.name, p => p.label, StringComparer.Ordinal);
        DatasetClip Clip(int index, int fold) =>
            new(rows[index].Name, rows[index].Path, labelOf[rows[index].Label], fold, ListedAt: $"{Path.GetFileName(csvPath)} row {rows[index].Line}");
        if (hasFolds == true)
        {
            var empty = Enumerable.Range(1, options.FoldCount).Except(rows.Select(r => r.Fold!.Value)).ToList();
            if (empty.Count > 0)
                throw new DatasetException($"{csvPath}: folds {string.Join(", ", empty)} have no clips; expected clips in every fold 1..{options.FoldCount} (the fold count)");
            return new SoundDataset(DatasetKind.Csv, "CSV list", csvPath, rows.Select((r, i) => Clip(i, r.Fold!.Value)).ToArray(), classNames,
                options.FoldCount, skipped);
        }
        var indices = Enumerable.Range(0, rows.Count).ToList();
        var folded = FoldSplit.Assign(indices, i => (rows[i].Name, labelOf[rows[i].Label]), csvPath, options);
        return new SoundDataset(DatasetKind.Csv, "CSV list", csvPath, folded.Select(f => Clip(f.Clip, f.Fold)).ToArray(), classNames,
            options.FoldCount, skipped, foldsMade: true);
    }
}
