using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;
using EnvNet.Training.Commands;

namespace EnvNet.Tests;

/// <summary>What --data is recognised as, and the messages for a path that is no dataset, missing or unreadable.</summary>
[TestClass]
public sealed class DatasetRecognitionTests
{
    [TestMethod]
    public void Esc50IsRecognisedAndLoadsAsBefore()
    {
        Assert.AreEqual(DatasetKind.Esc50, DatasetKind.Recognise(Esc50TestData.SampleDir, out _));
        var dataset = DatasetKind.Esc50.Load(Esc50TestData.SampleDir, new DatasetLoadOptions());
        var metadata = Esc50Metadata.Load(Esc50TestData.SampleDir);
        Assert.AreEqual("ESC-50", dataset.Name);
        Assert.AreEqual(5, dataset.FoldCount);
        CollectionAssert.AreEqual(metadata.ClassNames.ToArray(), dataset.ClassNames.ToArray());
        CollectionAssert.AreEqual(metadata.Clips.Select(c => (c.FileName, c.Fold, metadata.LabelOf(c))).ToArray(),
            dataset.Clips.Select(c => (c.Name, c.Fold, c.Label)).ToArray());
        Assert.AreEqual($"{Esc50Metadata.CsvRelativePath} row {metadata.Clips[0].Row}", dataset.Clips[0].ListedAt);
    }

    [TestMethod]
    public void NamesAreOneTypeAndRoundTrip()
    {
        foreach (var kind in DatasetKind.All)
            Assert.AreSame(kind, DatasetKind.Parse(kind.Name));
        Assert.IsNull(DatasetKind.Parse("ESC50"));
        Assert.AreEqual(5, DatasetKind.Esc50.FoldCount(7));
        Assert.AreEqual(10, DatasetKind.UrbanSound8K.FoldCount(7));
        Assert.AreEqual(7, DatasetKind.Folders.FoldCount(7));
    }

    [TestMethod]
    public void APathThatIsNoDatasetSaysWhatWasExpected()
    {
        using var dir = new TempDir();
        Assert.IsNull(DatasetKind.Recognise(dir.Sub("nothing"), out var missing));
        Assert.AreEqual($"'{dir.Sub("nothing")}' does not exist", missing);
        var message = OptionChecks.Dataset("--data", dir.Path);
        StringAssert.StartsWith(message, "--data: expected a dataset (esc50: meta/esc50.csv and audio/; urbansound8k: ");
        StringAssert.EndsWith(message, $"'{dir.Path}' is none of these.");
        File.WriteAllText(dir.Sub("list.txt"), "path,label\n");
        StringAssert.Contains(OptionChecks.Dataset("--data", dir.Sub("list.txt")), "is a file, not a dataset folder or a .csv list");
        Assert.IsNull(OptionChecks.Dataset("--data", dir.Sub("list.txt"), DatasetKind.Csv), "--dataset csv reads a list of any name");
    }

    [TestMethod]
    public void AnUnreadableFolderIsReportedAsUnreadableNotMissing()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Inconclusive("Windows has no mode bits to take a folder's read permission away");
            return;
        }
        if (Environment.IsPrivilegedProcess)
            Assert.Inconclusive("a folder without read permission is still readable to root: run the tests as an ordinary user");
        using var dir = new TempDir();
        var locked = dir.Sub("locked");
        Directory.CreateDirectory(locked);
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            Assert.IsNull(DatasetKind.Recognise(locked, out var problem));
            Assert.AreEqual($"'{locked}' cannot be read (permission denied)", problem);
            StringAssert.EndsWith(OptionChecks.Dataset("--data", locked), "cannot be read (permission denied).");
            StringAssert.EndsWith(OptionChecks.Dataset("--data", locked, DatasetKind.Folders), "cannot be read (permission denied).");
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
