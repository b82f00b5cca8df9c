using EnvNet.Training.FilterBank;
using SixLabors.ImageSharp;

namespace EnvNet.Tests;

[TestClass]
public sealed class FilterBankPicturesTests
{
    /// <summary>Kept in the test binary folder after the run, for a person to look at.</summary>
    private static readonly string OutputDir = Path.Combine(AppContext.BaseDirectory, "FilterBankPictures");

    [ClassInitialize]
    public static void CreateOutputDir(TestContext _) => Directory.CreateDirectory(OutputDir);

    /// <summary>A 40-filter bank whose bumps drift from random places towards mel spacing as the epochs go on.</summary>
    private static FilterBankResponse Epoch(int epoch, int epochs)
    {
        var frequencies = ToneSweep.LogSpacedFrequencies(10, 8000, 200);
        var mel = MelScale.BandCentresHz(40, 10, 8000);
        var rng = new Random(7);
        var values = new float[40 * 200];
        for (var i = 0; i < 40; i++)
        {
            var start = Math.Log(30 + rng.NextDouble() * 7000);
            var centre = Math.Exp(start + (Math.Log(mel[(i * 17) % 40]) - start) * epoch / (epochs - 1.0));
            for (var k = 0; k < 200; k++)
                values[i * 200 + k] = (float)(0.2 * rng.NextDouble() + Math.Exp(-0.5 * Math.Pow(Math.Log2(frequencies[k] / centre) / 0.3, 2)));
        }
        return new FilterBankResponse(frequencies, 40, values);
    }

    [TestMethod]
    public void HeatmapAndMelComparisonArePngsOfTheStatedSize()
    {
        var response = Epoch(2, 3);
        var heatmap = Path.Combine(OutputDir, "heatmap.png");
        var melPlot = Path.Combine(OutputDir, "centres_vs_mel.png");
        FilterBankPictures.WriteHeatmap(heatmap, response, "fold 1, epoch 3");
        FilterBankPictures.WriteCentresVersusMel(melPlot, response, "fold 1, epoch 3");

        foreach (var path in new[] { heatmap, melPlot })
        {
            var info = Image.Identify(path);
            Assert.IsNotNull(info, path);
            Assert.AreEqual((FilterBankPictures.HeatmapWidth, FilterBankPictures.HeatmapHeight), (info.Width, info.Height), path);
            Assert.IsTrue(new FileInfo(path).Length > 10_000, $"{path} is {new FileInfo(path).Length} bytes: too small to hold a plot");
        }
    }

    [TestMethod]
    public void AnimationHasOneFramePerEpoch()
    {
        const int epochs = 4;
        var path = Path.Combine(OutputDir, "animation.gif");
        FilterBankPictures.WriteAnimation(path, Enumerable.Range(0, epochs).Select(e => (Epoch(e, epochs), $"fold 1, epoch {e + 1}")));

        using var gif = Image.Load(path);
        Assert.AreEqual(epochs, gif.Frames.Count);
        Assert.AreEqual((FilterBankPictures.AnimationWidth, FilterBankPictures.AnimationHeight), (gif.Width, gif.Height));
        Assert.AreEqual(0, gif.Metadata.GetGifMetadata().RepeatCount, "loops for ever");
    }
}

[TestClass]
public sealed class FilterBankRecorderTests
{
    private readonly TempDir _temp = new();

    [TestCleanup]
    public void DeleteDirectory() => _temp.Dispose();

    [TestMethod]
    public void RecorderDrawsEachEpochAndAnimatesEpochsRecordedBeforeAResume()
    {
        var foldDir = Path.Combine(_temp.Path, "fold-2");
        var recorder = new FilterBankRecorder(_temp.Path);
        recorder.Record(2, 1, FilterBankCsvTests.RandomResponse(6, 20, seed: 1), foldDir);
        recorder.Record(2, 2, FilterBankCsvTests.RandomResponse(6, 20, seed: 2), foldDir);

        var resumed = new FilterBankRecorder(_temp.Path); // a new process: history comes from freqresp.csv
        Assert.AreEqual(2, resumed.RecordedEpochs(2));
        resumed.Record(2, 3, FilterBankCsvTests.RandomResponse(6, 20, seed: 3), foldDir);
        using (var gif = Image.Load(resumed.WriteAnimation(2, foldDir)))
            Assert.AreEqual(3, gif.Frames.Count);
        foreach (var epoch in new[] { 1, 2, 3 })
            Assert.IsTrue(new FileInfo(FilterBankRecorder.HeatmapPath(foldDir, epoch)).Length > 0, $"heatmap of epoch {epoch}");
        Assert.IsTrue(File.Exists(Path.Combine(FilterBankRecorder.PicturesDir(foldDir), FilterBankRecorder.CentresFileName)));
        Assert.AreEqual(3, FrequencyResponseLog.ReadSummaries(Path.Combine(_temp.Path, FrequencyResponseLog.SummaryFileName)).Count);
    }

    [TestMethod]
    public void AnimationKeepsEveryEpochUpToTheCapThenSpreadsFramesEvenly()
    {
        CollectionAssert.AreEqual(new[] { 2, 4, 6 }, FilterBankRecorder.AnimationEpochs([2, 4, 6], 3).ToArray());
        var picked = FilterBankRecorder.AnimationEpochs(Enumerable.Range(1, 600).ToList(), 150);
        Assert.AreEqual(150, picked.Count);
        Assert.AreEqual(1, picked[0]);
        Assert.AreEqual(600, picked[^1]);
        Assert.AreEqual(150, picked.Distinct().Count());
        var gaps = picked.Zip(picked.Skip(1), (a, b) => b - a).ToList();
        Assert.IsTrue(gaps.Min() >= 3 && gaps.Max() <= 5, $"gaps {gaps.Min()}..{gaps.Max()} for 599/149 = 4.02");
    }
}
