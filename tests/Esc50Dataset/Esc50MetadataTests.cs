using EnvNet.Esc50Dataset;

namespace EnvNet.Tests;

[TestClass]
public sealed class Esc50MetadataTests
{
    private static readonly string[] Esc10Order =
        ["dog", "rooster", "rain", "sea_waves", "crackling_fire", "crying_baby", "sneezing", "clock_tick", "helicopter", "chainsaw"];

    [TestMethod]
    public void SampleHasTwoClassesOnePerFold()
    {
        var metadata = Esc50Metadata.Load(Esc50TestData.SampleDir);
        Assert.AreEqual(10, metadata.Clips.Count);
        Assert.AreEqual(2, metadata.ClassCount);
        CollectionAssert.AreEqual(new[] { "dog", "clock_tick" }, metadata.ClassNames.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 38 }, metadata.ClassTargets.ToArray());
        foreach (var group in metadata.Clips.GroupBy(c => (c.Fold, c.Target)))
            Assert.AreEqual(1, group.Count(), $"fold {group.Key.Fold} target {group.Key.Target}");
        Assert.AreEqual(10, metadata.Clips.Select(c => (c.Fold, c.Target)).Distinct().Count());
        Assert.AreEqual(0, metadata.SkippedReasons.Count);
        var dog = metadata.Clips.Single(c => c.FileName == "1-100032-A-0.wav");
        Assert.AreEqual(new ClipInfo(2, "1-100032-A-0.wav", 1, 0, "dog", true, "100032", "A"), dog);
        Assert.AreEqual(1, metadata.LabelOf(metadata.Clips.First(c => c.Category == "clock_tick")), "target 38 is the second class");
    }

    // The ten ESC-10 classes (targets 0..41) among two others: the subset keeps only rows with esc10 = True and
    // relabels them 0..9 in target order.
    [TestMethod]
    public void Esc10IsRelabelledInTargetOrder()
    {
        using var dir = new TempDir();
        int[] esc10Targets = [0, 1, 10, 11, 12, 20, 21, 38, 40, 41];
        var rows = esc10Targets.Select((target, i) => $"1-{100 + target}-A-{target}.wav,1,{target},{Esc10Order[i]},True,{100 + target},A")
            .Concat(["1-102-A-2.wav,1,2,pig,False,102,A", "1-139-A-39.wav,1,39,glass_breaking,False,139,A"]).ToArray();
        Esc50Folder.Write(dir.Path, rows, rows.Select(row => (row.Split(',')[0], Array.Empty<byte>())));
        var metadata = Esc50Metadata.Load(dir.Path);
        Assert.AreEqual(12, metadata.ClassCount);

        var esc10 = metadata.Esc10();
        CollectionAssert.AreEqual(Esc10Order, esc10.ClassNames.ToArray());
        Assert.AreEqual(10, esc10.Clips.Count);
        Assert.AreEqual(7, esc10.LabelOf(esc10.Clips.First(c => c.Category == "clock_tick")));
    }

    [TestMethod]
    public void MissingColumnIsAnError()
    {
        using var dir = new TempDir();
        Esc50Folder.Write(dir.Path, [], [], header: "filename,fold,target,category,esc10,src_file");
        var error = Assert.ThrowsExactly<DatasetException>(() => Esc50Metadata.Load(dir.Path));
        StringAssert.Contains(error.Message, "esc50.csv: missing column 'take'");
    }

    [TestMethod]
    public void MissingCsvIsAnError()
    {
        using var dir = new TempDir();
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => Esc50Metadata.Load(dir.Path)).Message, "metadata file does not exist");
    }

    // Each bad row gets its error naming the CSV row; with skipBad it is skipped, logged and counted instead.
    [TestMethod]
    [DataRow("1-3-A-0.wav,6,0,dog,False,3,A", "row 3: fold '6' of 1-3-A-0.wav is not an integer 1..5")]
    [DataRow("1-3-A-0.wav,x,0,dog,False,3,A", "row 3: fold 'x'")]
    [DataRow("1-3-A-50.wav,1,50,cat,False,3,A", "row 3: target '50' of 1-3-A-50.wav is not an integer 0..49")]
    [DataRow("1-3-A-0.wav,1,0,cat,False,3,A", "row 3: category 'cat' of 1-3-A-0.wav differs from 'dog' given to target 0 at row 2")]
    [DataRow("1-3-A-1.wav,1,1,dog,False,3,A", "row 3: category 'dog' of 1-3-A-1.wav has target 1")]
    [DataRow("1-3-A-0.wav,1,0,dog,maybe,3,A", "row 3: esc10 'maybe'")]
    [DataRow("1-3-A-0.wav,1,0", "row 3: has 3 fields, expected at least 7")]
    [DataRow("../1-3-A-0.wav,1,0,dog,False,3,A", "row 3: filename '../1-3-A-0.wav' is not a plain file name")]
    [DataRow("1-2-A-0.wav,1,0,dog,False,2,A", "row 3: filename '1-2-A-0.wav' is listed again (first at row 2)")]
    [DataRow("1-9-A-0.wav,1,0,dog,False,9,A", "row 3: audio file")]
    public void BadRowIsAnErrorOrSkipped(string badRow, string expected)
    {
        using var dir = new TempDir();
        var wav = Esc50TestData.Wav(Esc50TestData.MonoFrames([0.5f]), 44100, Esc50TestData.FormatPcm, 16);
        Esc50Folder.Write(dir.Path, ["1-2-A-0.wav,1,0,dog,False,2,A", badRow],
            [("1-2-A-0.wav", wav), ("1-3-A-0.wav", wav), ("1-3-A-50.wav", wav), ("1-3-A-1.wav", wav)]);
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => Esc50Metadata.Load(dir.Path)).Message, expected);

        var log = new List<string>();
        var metadata = Esc50Metadata.Load(dir.Path, skipBad: true, log.Add);
        Assert.AreEqual(1, metadata.Clips.Count);
        Assert.AreEqual(1, metadata.SkippedReasons.Count);
        StringAssert.Contains(metadata.SkippedReasons[0], expected);
        Assert.IsTrue(log.Single().Contains(expected));
    }

    [TestMethod]
    public void MalformedCsvIsAnError()
    {
        using var dir = new TempDir();
        Esc50Folder.Write(dir.Path, ["1-2-A-0.wav,1,0,\"dog,False,2,A"], []);
        StringAssert.Contains(Assert.ThrowsExactly<DatasetException>(() => Esc50Metadata.Load(dir.Path)).Message, "malformed CSV");
    }
}
