using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;

namespace EnvNet.Tests;

/// <summary>UrbanSound8K's layout through its synthetic twin: recognised, its 10 folds kept as the metadata gives
/// them, every encoding of the twin decoded, short clips loaded; and the metadata rules that protect the folds.</summary>
[TestClass]
public sealed class UrbanSound8KDatasetTests
{
    private const int Classes = 3;
    private static TempDir _root = null!;
    private static string Data => _root.Sub("us8k");

    [ClassInitialize]
    public static void WriteTwin(TestContext _)
    {
        _root = new TempDir();
        SyntheticTwins.WriteUrbanSound8K(Data, Classes, clipsPerClassPerFold: 2, seed: 4);
    }

    [ClassCleanup]
    public static void Delete() => _root.Dispose();

    [TestMethod]
    public void TheTwinIsRecognisedAndKeepsItsTenFoldsAsListed()
    {
        Assert.AreEqual(DatasetKind.UrbanSound8K, DatasetKind.Recognise(Data, out var problem), problem);
        var dataset = DatasetKind.UrbanSound8K.Load(Data, new DatasetLoadOptions(FoldCount: 3, Seed: 99)); // neither applies: the folds are its own
        Assert.AreEqual(10, dataset.FoldCount);
        Assert.IsFalse(dataset.FoldsMade);
        CollectionAssert.AreEqual(SyntheticTwins.UrbanSound8KClasses.Take(Classes).ToArray(), dataset.ClassNames.ToArray());
        Assert.AreEqual(Classes * 10 * 2, dataset.Clips.Count);
        var listed = File.ReadLines(Path.Combine(Data, UrbanSound8KMetadata.CsvRelativePath)).Skip(1).Select(line => line.Split(','))
            .ToDictionary(f => f[0], f => (Fold: int.Parse(f[5]), ClassId: int.Parse(f[6])));
        foreach (var clip in dataset.Clips)
        {
            var row = listed[Path.GetFileName(clip.Name)];
            Assert.AreEqual(row.Fold, clip.Fold, clip.Name);
            Assert.AreEqual(row.ClassId, clip.Label, clip.Name);
            Assert.AreEqual(Path.Combine(Data, "audio", $"fold{row.Fold}", Path.GetFileName(clip.Name)), clip.AudioPath);
        }
        CollectionAssert.AreEquivalent(Enumerable.Range(1, 10).ToArray(), dataset.Clips.Select(c => c.Fold).Distinct().ToArray());
        // a recording's slices share a fold, so no source crosses a split
        Assert.IsTrue(dataset.Clips.GroupBy(c => c.SourceId).All(g => g.Select(c => c.Fold).Distinct().Count() == 1));
    }

    [TestMethod]
    public void EveryEncodingRateAndLengthOfTheTwinLoads()
    {
        var dataset = UrbanSound8KMetadata.Load(Data);
        var decoded = dataset.Clips.Select(c => AudioDecoder.Decode(c.AudioPath)).ToList();
        foreach (var format in new[] { "PCM 8-bit", "PCM 16-bit", "PCM 24-bit", "float 32-bit" })
            Assert.IsTrue(decoded.Any(d => d.Format.Contains(format, StringComparison.OrdinalIgnoreCase)), $"no {format} clip among {string.Join("; ", decoded.Select(d => d.Format).Distinct())}");
        Assert.IsTrue(decoded.Any(d => d.Channels == 1) && decoded.Any(d => d.Channels == 2));
        CollectionAssert.IsSubsetOf(new[] { 8_000, 44_100, 96_000 }, decoded.Select(d => d.SampleRate).Distinct().ToArray());

        using var cache = new TempDir();
        var store = ClipStore.Load(dataset, 8000, cache.Path, skipBad: false);
        Assert.AreEqual(dataset.Clips.Count, store.Clips.Count);
        var shortest = store.Clips.Min(c => c.Samples.Length);
        Assert.IsTrue(shortest < 8000 / 2, $"the shortest clip has {shortest} samples at 8 kHz; the twin has quarter-second clips");
        var (train, validation) = store.Split(10);
        Assert.IsTrue(validation.All(c => c.Info.Fold == 10) && train.All(c => c.Info.Fold != 10) && train.Count + validation.Count == store.Clips.Count);
    }

    [TestMethod]
    public void ARecordingInTwoFoldsAndAMissingSliceAreRefusedWithTheirRow()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "metadata"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "audio", "fold1"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "audio", "fold2"));
        File.WriteAllBytes(Path.Combine(dir.Path, "audio", "fold1", "7-0-0-0.wav"), []);
        File.WriteAllBytes(Path.Combine(dir.Path, "audio", "fold2", "7-0-0-1.wav"), []);
        var csv = Path.Combine(dir.Path, UrbanSound8KMetadata.CsvRelativePath);
        const string header = "slice_file_name,fsID,start,end,salience,fold,classID,class";
        File.WriteAllLines(csv, [header, "7-0-0-0.wav,7,0,1,1,1,0,air_conditioner", "7-0-0-1.wav,7,1,2,1,2,0,air_conditioner"]);
        var error = Assert.ThrowsExactly<DatasetException>(() => UrbanSound8KMetadata.Load(dir.Path));
        Assert.AreEqual($"{csv} row 3: fsID 7 of 7-0-0-1.wav is in fold 2, but in fold 1 at row 2: a recording's slices share a fold", error.Message);

        File.WriteAllLines(csv, [header, "7-0-0-0.wav,7,0,1,1,1,0,air_conditioner", "8-0-0-0.wav,8,0,1,1,11,0,air_conditioner"]);
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => UrbanSound8KMetadata.Load(dir.Path)).Message,
            "row 3: fold '11' of 8-0-0-0.wav is not an integer 1..10");
        var skipped = UrbanSound8KMetadata.Load(dir.Path, skipBad: true);
        Assert.AreEqual(1, skipped.Clips.Count);
        Assert.AreEqual(1, skipped.SkippedReasons.Count);
    }
}
