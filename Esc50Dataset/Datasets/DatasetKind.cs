using System.Text.Json.Serialization;

namespace EnvNet.Esc50Dataset.Datasets;

/// <summary>How a dataset is loaded besides its path: the ESC-50 subset, the folds to make for a dataset without its
/// own (and their seed), a split recorded by an earlier run, and whether bad rows and files are skipped.</summary>
public sealed record DatasetLoadOptions(
    Esc50Subset? Subset = null, int FoldCount = FoldSplit.DefaultFoldCount, int Seed = 0, IReadOnlyDictionary<string, int>? RecordedSplit = null,
    bool SkipBad = false, Action<string>? Log = null);

/// <summary>
/// The kinds of dataset the program reads, named once: <see cref="Name"/> is how <c>--dataset</c>, run.json and
/// <c>envnet synth --layout</c> spell it. <see cref="Recognise"/> tells which one a <c>--data</c> path is.
/// </summary>
[JsonConverter(typeof(NamedChoiceJsonConverter<DatasetKind>))]
public sealed class DatasetKind : INamedChoice<DatasetKind>
{
    public static readonly DatasetKind Esc50 = new("esc50", $"{Esc50Metadata.CsvRelativePath} and {Esc50Metadata.AudioFolder}/", Esc50Metadata.Folds,
        (path, o) => Esc50Metadata.Load(path, o.SkipBad, o.Log).ToDataset(o.Subset ?? Esc50Subset.Esc50));
    public static readonly DatasetKind UrbanSound8K = new("urbansound8k", $"{UrbanSound8KMetadata.CsvRelativePath} and {UrbanSound8KMetadata.AudioFolder}/foldN/",
        UrbanSound8KMetadata.Folds, (path, o) => UrbanSound8KMetadata.Load(path, o.SkipBad, o.Log));
    public static readonly DatasetKind Folders = new("folders", "one sub-folder of audio files per class", null, ClassFolders.Load);
    public static readonly DatasetKind Csv = new("csv", $"a CSV file of {string.Join(",", ClipList.Columns)}[,{ClipList.FoldColumn}]", null, ClipList.Load);

    public static IReadOnlyList<DatasetKind> All { get; } = [Esc50, UrbanSound8K, Folders, Csv];

    public static string Noun => "dataset";

    private readonly Func<string, DatasetLoadOptions, SoundDataset> load;

    private DatasetKind(string name, string layout, int? ownFoldCount, Func<string, DatasetLoadOptions, SoundDataset> load) =>
        (Name, Layout, OwnFoldCount, this.load) = (name, layout, ownFoldCount, load);

    public string Name { get; }

    /// <summary>What a path of this kind holds, for messages.</summary>
    public string Layout { get; }

    /// <summary>The dataset's predefined folds (5 for ESC-50, 10 for UrbanSound8K; never reshuffled), or null when
    /// the program makes them (<see cref="FoldSplit"/>) or a list's own fold column gives them.</summary>
    public int? OwnFoldCount { get; }

    /// <summary>The folds a dataset of this kind has: its own, else <paramref name="chosenFoldCount"/>.</summary>
    public int FoldCount(int chosenFoldCount) => OwnFoldCount ?? chosenFoldCount;

    /// <summary>The kind named <paramref name="name"/>, or null for a name that is none.</summary>
    public static DatasetKind? Parse(string name) => All.FirstOrDefault(k => k.Name == name);

    public SoundDataset Load(string path, DatasetLoadOptions options) => load(path, options);

    /// <summary>
    /// Which kind <paramref name="path"/> is: a .csv file is a list; a folder with ESC-50's or UrbanSound8K's
    /// metadata file is that dataset; any other folder with a sub-folder holding audio files is a class-folder dataset.
    /// Null, and <paramref name="problem"/> saying why, when it is none (or is missing or unreadable).
    /// </summary>
    public static DatasetKind? Recognise(string path, out string? problem)
    {
        problem = null;
        if (File.Exists(path))
        {
            if (string.Equals(Path.GetExtension(path), ".csv", StringComparison.OrdinalIgnoreCase))
                return Csv;
            problem = $"'{path}' is a file, not a dataset folder or a .csv list";
            return null;
        }
        if (!Directory.Exists(path))
        {
            problem = $"'{path}' does not exist";
            return null;
        }
        try
        {
            if (File.Exists(Path.Combine(path, Esc50Metadata.CsvRelativePath)))
                return Esc50;
            if (File.Exists(Path.Combine(path, UrbanSound8KMetadata.CsvRelativePath)))
                return UrbanSound8K;
            if (Directory.EnumerateDirectories(path).Any(ClassFolders.HoldsAudio))
                return Folders;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            problem = Unreadable(path, e);
            return null;
        }
        problem = $"'{path}' is none of these";
        return null;
    }

    /// <summary>The message for a folder or file that exists but cannot be read: a permission problem is not a missing file.</summary>
    public static string Unreadable(string path, Exception e) =>
        e is UnauthorizedAccessException ? $"'{path}' cannot be read (permission denied)" : $"'{path}' cannot be read ({e.Message})";

    public override string ToString() => Name;
}
