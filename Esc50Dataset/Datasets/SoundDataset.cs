namespace EnvNet.Esc50Dataset.Datasets;

/// <summary>One clip of a dataset. <paramref name="Name"/> is its path relative to the dataset folder (what messages
/// and the recorded split name it by); <paramref name="Label"/> its class index; <paramref name="Fold"/> 1 to the
/// dataset's fold count; <paramref name="SourceId"/> the recording it was cut from, where the dataset says;
/// <paramref name="ListedAt"/> where the dataset lists it ("meta/esc50.csv row 12"), null for a folder scan.</summary>
public sealed record DatasetClip(string Name, string AudioPath, int Label, int Fold, string? SourceId = null, string? ListedAt = null);

/// <summary>
/// A dataset as training, validation and the results read it: its clips, its class names (a clip's label indexes
/// them), its fold count and its name. Every kind (<see cref="DatasetKind"/>) loads into this one form, so nothing
/// past loading knows which kind it came from.
/// </summary>
public sealed class SoundDataset
{
    public SoundDataset(DatasetKind kind, string name, string dir, IReadOnlyList<DatasetClip> clips, IReadOnlyList<string> classNames,
        int foldCount, IReadOnlyList<string> skippedReasons, bool foldsMade = false)
    {
        if (clips.FirstOrDefault(c => c.Label < 0 || c.Label >= classNames.Count) is { } badLabel)
            throw new ArgumentException($"{badLabel.Name}: label {badLabel.Label} is outside 0..{classNames.Count - 1}", nameof(clips));
        if (clips.FirstOrDefault(c => c.Fold < 1 || c.Fold > foldCount) is { } badFold)
            throw new ArgumentException($"{badFold.Name}: fold {badFold.Fold} is outside 1..{foldCount}", nameof(clips));
        Kind = kind;
        Name = name;
        Dir = dir;
        Clips = clips;
        ClassNames = classNames;
        FoldCount = foldCount;
        SkippedReasons = skippedReasons;
        FoldsMade = foldsMade;
    }

    public DatasetKind Kind { get; }

    /// <summary>How logs and messages name it: "ESC-50", "ESC-10", "UrbanSound8K", "class folders", "CSV list".</summary>
    public string Name { get; }

    /// <summary>What <c>--data</c> named: the dataset folder, or the CSV file of a list.</summary>
    public string Dir { get; }

    public IReadOnlyList<DatasetClip> Clips { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int ClassCount => ClassNames.Count;
    public int FoldCount { get; }

    /// <summary>Whether the program made the folds (<see cref="FoldSplit"/>), so a run must record them.</summary>
    public bool FoldsMade { get; }

    /// <summary>Rows or files left out by <c>skipBad</c>, one reason each.</summary>
    public IReadOnlyList<string> SkippedReasons { get; }

    /// <summary>The one line a run logs about it.</summary>
    public string Describe() =>
        $"{Dir}: {Name} ({Kind.Layout}), {Clips.Count} clips, {ClassCount} classes, {FoldCount} folds";
}
