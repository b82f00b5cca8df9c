using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;

namespace EnvNet.Tests;

/// <summary>A folder of one's own sounds: recognised, classes from the sub-folders, and the fold rules of a split the
/// program makes: every clip in exactly one fold, stratified, fixed by the seed, and kept as recorded on resume.</summary>
[TestClass]
public sealed class ClassFolderDatasetTests
{
    private const int Classes = 3;
    private const int ClipsPerClass = 7;
    private static TempDir _root = null!;
    private static string Data => _root.Sub("my-sounds");

    [ClassInitialize]
    public static void WriteTwin(TestContext _)
    {
        _root = new TempDir();
        SyntheticTwins.WriteClassFolders(Data, Classes, ClipsPerClass, seed: 2);
        File.WriteAllText(Path.Combine(Data, "tone", "notes.txt"), "not audio"); // other files are ignored
        Directory.CreateDirectory(Path.Combine(Data, "empty"));                  // as is a folder without audio
    }

    [ClassCleanup]
    public static void Delete() => _root.Dispose();

    private static SoundDataset Load(int foldCount = 5, int seed = 0, IReadOnlyDictionary<string, int>? recorded = null, List<string>? log = null) =>
        DatasetKind.Folders.Load(Data, new DatasetLoadOptions(FoldCount: foldCount, Seed: seed, RecordedSplit: recorded, Log: log is null ? null : log.Add));

    [TestMethod]
    public void SubFoldersAreTheClassesAndEveryClipIsInExactlyOneStratifiedFold()
    {
        Assert.AreEqual(DatasetKind.Folders, DatasetKind.Recognise(Data, out var problem), problem);
        var dataset = Load();
        CollectionAssert.AreEqual(new[] { "chirp", "noise_band", "tone" }, dataset.ClassNames.ToArray());
        Assert.AreEqual(Classes * ClipsPerClass, dataset.Clips.Count);
        Assert.AreEqual(dataset.Clips.Count, dataset.Clips.Select(c => c.Name).Distinct().Count(), "a clip is listed twice");
        Assert.IsTrue(dataset.FoldsMade);
        Assert.AreEqual(5, dataset.FoldCount);
        foreach (var clip in dataset.Clips)
            Assert.AreEqual(dataset.ClassNames[clip.Label], Path.GetDirectoryName(clip.Name), clip.Name);
        // stratified: 7 clips of a class over 5 folds is 1 or 2 per fold, and the folds' sizes differ by at most one
        foreach (var byClass in dataset.Clips.GroupBy(c => c.Label))
            CollectionAssert.AreEquivalent(new[] { 1, 2 }, byClass.GroupBy(c => c.Fold).Select(g => g.Count()).Distinct().ToArray());
        var sizes = dataset.Clips.GroupBy(c => c.Fold).Select(g => g.Count()).ToList();
        Assert.AreEqual(5, sizes.Count);
        Assert.IsTrue(sizes.Max() - sizes.Min() <= 1, string.Join(",", sizes));
    }

    [TestMethod]
    public void TheSeedFixesTheSplit()
    {
        static string Split(SoundDataset d) => string.Join(";", d.Clips.Select(c => $"{c.Name}={c.Fold}"));
        Assert.AreEqual(Split(Load(seed: 1)), Split(Load(seed: 1)));
        Assert.AreNotEqual(Split(Load(seed: 1)), Split(Load(seed: 2)));
        Assert.AreEqual(3, Load(foldCount: 3).FoldCount);
        CollectionAssert.AreEquivalent(new[] { 1, 2, 3 }, Load(foldCount: 3).Clips.Select(c => c.Fold).Distinct().ToArray());
    }

    [TestMethod]
    public void ARecordedSplitIsUsedAsItIsWhateverTheFolderBecame()
    {
        var first = Load(seed: 5);
        var path = _root.Sub("folds.csv");
        File.WriteAllText(path, FoldSplit.ToCsv(first.Clips));
        var recorded = FoldSplit.Read(path, first.FoldCount);

        // another seed would deal other folds, and a file added since is not in the split
        var added = Path.Combine(Data, "chirp", "zz-added.wav");
        File.Copy(first.Clips[0].AudioPath, added);
        try
        {
            var log = new List<string>();
            var resumed = Load(seed: 6, recorded: recorded, log: log);
            CollectionAssert.AreEqual(first.Clips.Select(c => (c.Name, c.Fold)).ToArray(), resumed.Clips.Select(c => (c.Name, c.Fold)).ToArray());
            CollectionAssert.Contains(log, $"{Path.Combine("chirp", "zz-added.wav")}: not in the run's recorded split (folds.csv), left out");
        }
        finally
        {
            File.Delete(added);
        }

        var withGone = new Dictionary<string, int>(recorded) { [Path.Combine("tone", "gone.wav")] = 1 };
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => Load(recorded: withGone)).Message,
            $"1 clips of the run's recorded split (folds.csv) are gone, e.g. {Path.Combine("tone", "gone.wav")}");
    }

    [TestMethod]
    public void AFolderWithFewerThanTwoClassesIsRefused()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "only"));
        File.Copy(Load().Clips[0].AudioPath, Path.Combine(dir.Path, "only", "a.wav"));
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => ClassFolders.Load(dir.Path, new DatasetLoadOptions())).Message,
            "1 sub-folders hold audio files");
    }

    /// <summary>A user's folder of Ogg Vorbis and MP3 recordings beside WAV: the scan takes every format read, and
    /// the clip store decodes each through the cache at the model's rate, the half-second clips kept whole.</summary>
    [TestMethod]
    public void OggAndMp3ClipsAreClassFolderClipsAndLoadThroughTheClipStore()
    {
        using var dir = new TempDir();
        var sources = new (string Class, string Source, string Name)[]
        {
            ("birds", AudioDecoderTests.OggMono, "a.ogg"), ("birds", AudioDecoderTests.Mp3Stereo, "b.MP3"),
            ("door", AudioDecoderTests.OggStereo, "c.ogg"), ("door", AudioDecoderTests.Mp3Mono, "d.mp3"),
        };
        foreach (var (className, source, name) in sources)
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, className));
            File.Copy(Path.Combine(AudioDecoderTests.AudioDir, source), Path.Combine(dir.Path, className, name));
        }
        File.Copy(Load().Clips[0].AudioPath, Path.Combine(dir.Path, "door", "e.wav"));

        var dataset = ClassFolders.Load(dir.Path, new DatasetLoadOptions(FoldCount: 2));
        CollectionAssert.AreEqual(new[] { "birds", "door" }, dataset.ClassNames.ToArray());
        Assert.AreEqual(5, dataset.Clips.Count);
        using var cache = new TempDir();
        var store = ClipStore.Load(dataset, 16000, cache.Path, skipBad: false, trimSilence: false);
        Assert.AreEqual(5, store.Clips.Count);
        foreach (var clip in store.Clips.Where(c => !c.Info.Name.EndsWith(".wav", StringComparison.Ordinal)))
            Assert.AreEqual(8000, clip.Samples.Length, 1200, $"{clip.Info.Name}: half a second at 16 kHz (with the codec's padding)");
    }
}
