namespace EnvNet.Esc50Dataset.Datasets;

/// <summary>
/// A folder of one's own sounds: one sub-folder per class (<c>my-sounds/dog/*.wav</c>, <c>my-sounds/door/*.wav</c>),
/// as Keras' audio_dataset_from_directory reads. Classes are the sub-folders holding audio files, in ordinal order
/// of their names; the audio files directly in each are its clips (<see cref="AudioDecoder.FileExtensions"/>);
/// other files and deeper folders are ignored. There is no metadata, so the folds are made (<see cref="FoldSplit"/>).
/// </summary>
public static class ClassFolders
{
    /// <summary>Whether <paramref name="folder"/> holds an audio file directly: what makes it a class.</summary>
    public static bool HoldsAudio(string folder) => Directory.EnumerateFiles(folder).Any(AudioDecoder.HasAudioExtension);

    public static SoundDataset Load(string datasetDir, DatasetLoadOptions options)
    {
        var files = new List<(string Name, string Path, int Label)>();
        var classNames = new List<string>();
        try
        {
            foreach (var classDir in Directory.EnumerateDirectories(datasetDir).Order(StringComparer.Ordinal))
            {
                var audio = Directory.EnumerateFiles(classDir).Where(AudioDecoder.HasAudioExtension).Order(StringComparer.Ordinal).ToList();
                if (audio.Count == 0)
                    continue;
                var className = Path.GetFileName(classDir);
                files.AddRange(audio.Select(path => (Path.Combine(className, Path.GetFileName(path)), path, classNames.Count)));
                classNames.Add(className);
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new DatasetException($"{DatasetKind.Unreadable(datasetDir, e)} (a class folder or one of its sub-folders)", e);
        }
        if (classNames.Count < 2)
            throw new DatasetException(
                $"{datasetDir}: {classNames.Count} sub-folders hold audio files ({string.Join(", ", AudioDecoder.FileExtensions)}); " +
                "expected one sub-folder per class and at least two classes");
        var folded = FoldSplit.Assign(files, f => (f.Name, f.Label), datasetDir, options);
        var clips = folded.Select(f => new DatasetClip(f.Clip.Name, f.Clip.Path, f.Clip.Label, f.Fold)).ToArray();
        return new SoundDataset(DatasetKind.Folders, "class folders", datasetDir, clips, classNames, options.FoldCount, [], foldsMade: true);
    }
}
