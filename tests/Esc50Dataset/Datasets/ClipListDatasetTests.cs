using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;

namespace EnvNet.Tests;

/// <summary>The CSV form of a dataset (path,label[,fold]): with its own folds, without (made as for class folders),
/// and the rows it refuses.</summary>
[TestClass]
public sealed class ClipListDatasetTests
{
    private static TempDir _root = null!;
    private static string Sounds => _root.Sub("sounds");

    [ClassInitialize]
    public static void WriteSounds(TestContext _)
    {
        _root = new TempDir();
        SyntheticTwins.WriteClassFolders(Sounds, classes: 2, clipsPerClass: 4, seed: 1);
    }

    [ClassCleanup]
    public static void Delete() => _root.Dispose();

    private static string List(string name, params string[] lines)
    {
        var path = _root.Sub(name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private static IEnumerable<string> Rows(Func<int, string> fold) =>
        Enumerable.Range(0, 8).Select(i => $"sounds/{(i < 4 ? "tone" : "chirp")}/{(i < 4 ? "tone" : "chirp")}-{i % 4:D3}.wav,{(i < 4 ? "high" : "low")}{fold(i)}");

    [TestMethod]
    public void AListWithFoldsKeepsThemAndOneWithoutHasThemMade()
    {
        var withFolds = List("with-folds.csv", ["path,label,fold", .. Rows(i => $",{i % 2 + 1}")]);
        Assert.AreEqual(DatasetKind.Csv, DatasetKind.Recognise(withFolds, out var problem), problem);
        var dataset = DatasetKind.Csv.Load(withFolds, new DatasetLoadOptions(FoldCount: 2));
        CollectionAssert.AreEqual(new[] { "high", "low" }, dataset.ClassNames.ToArray());
        Assert.IsFalse(dataset.FoldsMade);
        CollectionAssert.AreEqual(Enumerable.Range(0, 8).Select(i => i % 2 + 1).ToArray(), dataset.Clips.Select(c => c.Fold).ToArray());
        Assert.AreEqual(Path.Combine(_root.Path, "sounds", "tone", "tone-000.wav"), dataset.Clips[0].AudioPath);

        var without = DatasetKind.Csv.Load(List("without.csv", ["path,label", .. Rows(_ => "")]), new DatasetLoadOptions(FoldCount: 4, Seed: 3));
        Assert.IsTrue(without.FoldsMade);
        Assert.AreEqual(4, without.FoldCount);
        foreach (var byClass in without.Clips.GroupBy(c => c.Label))
            CollectionAssert.AreEquivalent(new[] { 1, 2, 3, 4 }, byClass.Select(c => c.Fold).ToArray(), "4 clips of a class over 4 folds: one each");
    }

    [TestMethod]
    public void BadRowsAreRefusedNamingFileAndRow()
    {
        string Error(string name, params string[] lines) =>
            Assert.ThrowsExactly<DatasetException>(() => ClipList.Load(List(name, lines), new DatasetLoadOptions(FoldCount: 2))).Message;
        var rows = Rows(i => $",{i % 2 + 1}").ToArray();
        Assert.AreEqual($"{_root.Sub("fold3.csv")} row 3: fold '3' of sounds/tone/tone-001.wav is not an integer 1..2 (the fold count)",
            Error("fold3.csv", "path,label,fold", rows[0], rows[1].Replace(",2", ",3")));
        StringAssert.Contains(Error("mixed.csv", "path,label,fold", rows[0], rows[1][..rows[1].LastIndexOf(',')] + ","),
            "row 3: fold of sounds/tone/tone-001.wav is empty, but given in the rows before");
        StringAssert.Contains(Error("missing.csv", "path,label", "sounds/none.wav,x"), "row 2: audio file");
        StringAssert.Contains(Error("twice.csv", "path,label", "sounds/tone/tone-000.wav,a", "sounds/tone/tone-000.wav,b"), "row 3: path 'sounds/tone/tone-000.wav' is listed again (first at row 2)");
        StringAssert.Contains(Error("empty-fold.csv", "path,label,fold", rows[0], rows[2]), "folds 2 have no clips");
        StringAssert.Contains(Error("header.csv", "file,label", rows[0]), "missing column 'path'");
    }
}
