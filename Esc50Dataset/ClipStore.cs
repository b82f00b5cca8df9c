using System.Diagnostics;
using EnvNet.Esc50Dataset.Datasets;

namespace EnvNet.Esc50Dataset;

/// <summary>A preprocessed clip: trimmed, at the store's sample rate, in [-1, 1].</summary>
public sealed record LoadedClip(DatasetClip Info, float[] Samples)
{
    /// <summary>Its class index in the dataset it was loaded from.</summary>
    public int Label => Info.Label;
}

/// <summary>
/// Every clip of a dataset, preprocessed once (in parallel) and kept in memory, with a cache on disk
/// (<see cref="ClipCache"/>) so that a second run only reads it back. With <c>skipBad</c> a clip that cannot be
/// loaded is logged and counted in <see cref="SkippedReasons"/>, together with the rows the metadata skipped;
/// without it the first bad clip (in CSV order) throws its <see cref="DatasetException"/>.
/// </summary>
public sealed class ClipStore
{
    private ClipStore(SoundDataset dataset, int sampleRate, IReadOnlyList<LoadedClip> clips, IReadOnlyList<string> skippedReasons, int cacheHits)
    {
        Dataset = dataset;
        SampleRate = sampleRate;
        Clips = clips;
        SkippedReasons = skippedReasons;
        CacheHits = cacheHits;
    }

    public SoundDataset Dataset { get; }
    public int SampleRate { get; }
    public IReadOnlyList<LoadedClip> Clips { get; }
    public int SkippedCount => SkippedReasons.Count;
    public IReadOnlyList<string> SkippedReasons { get; }

    /// <summary>How many clips came from the disk cache rather than being decoded.</summary>
    public int CacheHits { get; }

    public int ClassCount => Dataset.ClassCount;

    /// <summary>
    /// Loads every clip of <paramref name="dataset"/> at <paramref name="sampleRate"/> (16000 for EnvNet, 44100 for
    /// EnvNet-v2), using and filling the cache in <paramref name="cacheDir"/>. <paramref name="trimSilence"/>
    /// (default on, as the recipe) removes leading and trailing exact zeros.
    /// </summary>
    /// <param name="clipsDone">Called, from the loading threads, with the number of clips done so far (for progress).</param>
    /// <param name="cancel">Stops loading after the clips being decoded (an <see cref="OperationCanceledException"/>).</param>
    public static ClipStore Load(SoundDataset dataset, int sampleRate, string cacheDir, bool skipBad, Action<string>? log = null,
        bool trimSilence = true, Action<int>? clipsDone = null, CancellationToken cancel = default)
    {
        ClipPreprocessor.CheckTargetRate(sampleRate);
        var clock = Stopwatch.StartNew();
        try
        {
            Directory.CreateDirectory(cacheDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new DatasetException($"{cacheDir}: the clip cache folder cannot be created ({e.Message})", e);
        }
        var cache = new ClipCache(cacheDir, log);
        var infos = dataset.Clips;
        var loaded = new LoadedClip?[infos.Count];
        var errors = new DatasetException?[infos.Count];
        int cacheHits = 0, done = 0;

        Parallel.For(0, infos.Count, new ParallelOptions { CancellationToken = cancel }, (i, loop) =>
        {
            var info = infos[i];
            var source = new FileInfo(info.AudioPath);
            try
            {
                float[] samples;
                var key = ClipCache.Key(source, sampleRate, trimSilence);
                var entry = cache.EntryPath(source, sampleRate, trimSilence);
                var cached = source.Exists ? cache.TryRead(entry, key) : null;
                if (cached is not null)
                {
                    samples = cached;
                    Interlocked.Increment(ref cacheHits);
                }
                else
                {
                    samples = ClipPreprocessor.Preprocess(source.FullName, sampleRate, trimSilence);
                    cache.Write(entry, key, samples);
                }
                loaded[i] = new LoadedClip(info, samples);
            }
            catch (DatasetException e)
            {
                errors[i] = info.ListedAt is null ? e : new DatasetException($"{e.Message} ({info.ListedAt})", e);
                if (!skipBad)
                    loop.Stop();
            }
            clipsDone?.Invoke(Interlocked.Increment(ref done));
        });

        var skipped = new List<string>(dataset.SkippedReasons);
        for (int i = 0; i < infos.Count; i++)
        {
            if (errors[i] is not { } error)
                continue;
            if (!skipBad)
                throw error;
            skipped.Add(error.Message);
            log?.Invoke($"skipping bad clip: {error.Message}");
        }
        var clips = loaded.OfType<LoadedClip>().ToArray();
        if (clips.Length == 0)
            throw new DatasetException($"{dataset.Dir}: no clip could be loaded ({skipped.Count} skipped)");
        log?.Invoke($"loaded {clips.Length} clips at {sampleRate} Hz in {clock.Elapsed.TotalSeconds:F2} s " +
                    $"({cacheHits} from the cache in {cacheDir}, {clips.Length - cacheHits} decoded, {skipped.Count} skipped)");
        return new ClipStore(dataset, sampleRate, clips, skipped, cacheHits);
    }

    /// <summary>Training clips (the other folds) and validation clips (<paramref name="validationFold"/>).</summary>
    public (IReadOnlyList<LoadedClip> Train, IReadOnlyList<LoadedClip> Validation) Split(int validationFold)
    {
        if (validationFold < 1 || validationFold > Dataset.FoldCount)
            throw new ArgumentOutOfRangeException(nameof(validationFold), validationFold, $"expected a fold 1..{Dataset.FoldCount}");
        var train = Clips.Where(c => c.Info.Fold != validationFold).ToArray();
        var validation = Clips.Where(c => c.Info.Fold == validationFold).ToArray();
        if (train.Length == 0 || validation.Length == 0)
            throw new DatasetException($"{Dataset.Dir}: validation fold {validationFold} leaves {train.Length} training and {validation.Length} validation clips; both must be non-empty");
        return (train, validation);
    }
}
