using System.Globalization;
using static EnvNet.Esc50Dataset.Datasets.MetadataCsv;

namespace EnvNet.Esc50Dataset.Datasets;

/// <summary>
/// UrbanSound8K (Salamon, Jacoby &amp; Bello, ACM MM 2014): metadata/UrbanSound8K.csv lists each slice with its
/// recording (fsID), fold and class; the audio is in audio/fold1/ ... audio/fold10/. Its 10 folds are used as they
/// are, never reshuffled (the authors' rule: slices of one recording share a fold, and reshuffling them inflates
/// accuracy). Classes are the classIDs present in ascending order, as ESC-50's targets: the full dataset keeps its
/// classIDs 0..9 as labels.
/// </summary>
public static class UrbanSound8KMetadata
{
    public const string CsvRelativePath = "metadata/UrbanSound8K.csv";
    public const string AudioFolder = "audio";
    public const int Folds = 10;
    public const int MaxClassId = 9;

    /// <summary>The CSV columns, all required, in the order of the original file.</summary>
    public static readonly IReadOnlyList<string> Columns = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"];

    /// <summary>The clip folder of a fold, relative to the dataset folder.</summary>
    public static string FoldFolder(int fold) => Path.Combine(AudioFolder, $"fold{fold.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Reads and validates the metadata: file names plain, unique and present in their fold's folder,
    /// folds 1..10, classIDs 0..9 with one class name each (and one classID per name), a recording (fsID) in one
    /// fold only. A bad row throws, or with <paramref name="skipBad"/> is logged and left out.</summary>
    public static SoundDataset Load(string datasetDir, bool skipBad = false, Action<string>? log = null)
    {
        var csvPath = Path.Combine(datasetDir, CsvRelativePath);
        var rows = new List<(string Name, string Path, int Fold, int ClassId, string SourceId, int Line)>();
        var nameOfClass = new Dictionary<int, (string Name, int Line)>();
        var classOfName = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineOfFile = new Dictionary<string, int>(StringComparer.Ordinal);
        var foldOfSource = new Dictionary<string, (int Fold, int Line)>(StringComparer.Ordinal);
        var skipped = MetadataCsv.Read(csvPath, Columns, $"an UrbanSound8K folder with {CsvRelativePath} and {AudioFolder}/fold1/ to fold{Folds}/", row =>
        {
            var fileName = row[0];
            var shownName = Shown(fileName);
            if (!IsPlainFileName(fileName))
                return $"slice_file_name '{shownName}' is not a plain file name (expected e.g. 100032-3-0-0.wav)";
            if (lineOfFile.TryGetValue(fileName, out var firstLine))
                return $"slice_file_name '{shownName}' is listed again (first at row {firstLine})";
            if (!int.TryParse(row[5], NumberStyles.Integer, CultureInfo.InvariantCulture, out var fold) || fold < 1 || fold > Folds)
                return $"fold '{Shown(row[5])}' of {shownName} is not an integer 1..{Folds}";
            if (!int.TryParse(row[6], NumberStyles.Integer, CultureInfo.InvariantCulture, out var classId) || classId < 0 || classId > MaxClassId)
                return $"classID '{Shown(row[6])}' of {shownName} is not an integer 0..{MaxClassId}";
            var className = row[7];
            if (className.Length == 0)
                return $"class of {shownName} is empty";
            if (nameOfClass.TryGetValue(classId, out var known) && known.Name != className)
                return $"class '{Shown(className)}' of {shownName} differs from '{Shown(known.Name)}' given to classID {classId} at row {known.Line}";
            if (classOfName.TryGetValue(className, out var knownId) && knownId != classId)
                return $"class '{Shown(className)}' of {shownName} has classID {classId}, but classID {knownId} elsewhere";
            var sourceId = row[1];
            if (foldOfSource.TryGetValue(sourceId, out var source) && source.Fold != fold)
                return $"fsID {Shown(sourceId)} of {shownName} is in fold {fold}, but in fold {source.Fold} at row {source.Line}: a recording's slices share a fold";
            var audioPath = Path.Combine(datasetDir, FoldFolder(fold), fileName);
            if (!File.Exists(audioPath))
                return $"audio file {Shown(audioPath, MaxShownHeader)} does not exist";

            nameOfClass.TryAdd(classId, (className, row.Line));
            classOfName.TryAdd(className, classId);
            foldOfSource.TryAdd(sourceId, (fold, row.Line));
            lineOfFile.Add(fileName, row.Line);
            rows.Add((Path.Combine(FoldFolder(fold), fileName), audioPath, fold, classId, sourceId, row.Line));
            return null;
        }, skipBad, log);
        if (rows.Count == 0)
            throw new DatasetException($"{csvPath}: no usable rows{(skipped.Count > 0 ? $" ({skipped.Count} bad rows skipped)" : "")}");

        var classIds = nameOfClass.Keys.Order().ToArray();
        var labelOf = classIds.Select((id, label) => (id, label)).ToDictionary(p => p.id, p => p.label);
        var clips = rows.Select(r => new DatasetClip(r.Name, r.Path, labelOf[r.ClassId], r.Fold, r.SourceId, $"{CsvRelativePath} row {r.Line}")).ToArray();
        return new SoundDataset(DatasetKind.UrbanSound8K, "UrbanSound8K", datasetDir, clips, classIds.Select(id => nameOfClass[id].Name).ToArray(), Folds, skipped);
    }
}
