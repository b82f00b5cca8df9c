using EnvNet.Training.FilterBank;

namespace EnvNet.Tests;

[TestClass]
public sealed class FilterBankCsvTests
{
    private readonly TempDir _temp = new();

    [TestCleanup]
    public void DeleteDirectory() => _temp.Dispose();

    internal static FilterBankResponse RandomResponse(int filters, int frequencies, int seed)
    {
        var rng = new Random(seed);
        var values = Enumerable.Range(0, filters * frequencies).Select(_ => (float)rng.NextDouble() * 3).ToArray();
        return new FilterBankResponse(ToneSweep.LogSpacedFrequencies(10, 8000, frequencies), filters, values);
    }

    [TestMethod]
    public void ResponsesAndSummariesRoundTripThroughTheCsvFiles()
    {
        var epoch1 = RandomResponse(5, 7, seed: 1);
        var epoch2 = RandomResponse(5, 7, seed: 2);
        var log = new FrequencyResponseLog(_temp.Path);
        log.Append(2, 1, epoch1, FilterBankSummary.Of(2, 1, epoch1));
        log.Append(2, 2, epoch2, FilterBankSummary.Of(2, 2, epoch2));

        var lines = File.ReadAllLines(Path.Combine(_temp.Path, FrequencyResponseLog.ResponseFileName));
        Assert.AreEqual("fold,epoch,filter,rank,frequency_hz,response", lines[0]);
        Assert.AreEqual(1 + 2 * 5 * 7, lines.Length);

        var rows = FrequencyResponseLog.ReadRows(Path.Combine(_temp.Path, FrequencyResponseLog.ResponseFileName));
        CollectionAssert.AreEqual(FrequencyResponseLog.Rows(2, 1, epoch1).Concat(FrequencyResponseLog.Rows(2, 2, epoch2)).ToList(), rows);

        var responses = FrequencyResponseLog.ReadResponses(Path.Combine(_temp.Path, FrequencyResponseLog.ResponseFileName));
        Assert.AreEqual(2, responses.Count);
        foreach (var ((fold, epoch, read), written) in responses.Zip([epoch1, epoch2]))
        {
            Assert.AreEqual(2, fold);
            AssertSameResponse(written, read);
        }
        Assert.AreEqual(2, responses[1].Epoch);

        var summaries = FrequencyResponseLog.ReadSummaries(Path.Combine(_temp.Path, FrequencyResponseLog.SummaryFileName));
        CollectionAssert.AreEqual(new[] { FilterBankSummary.Of(2, 1, epoch1), FilterBankSummary.Of(2, 2, epoch2) }, summaries);
        Assert.IsTrue(File.ReadLines(Path.Combine(_temp.Path, FrequencyResponseLog.SummaryFileName)).First().StartsWith("fold,epoch,mel_correlation,"));
    }

    private static void AssertSameResponse(FilterBankResponse expected, FilterBankResponse actual)
    {
        CollectionAssert.AreEqual(expected.FrequenciesHz.ToArray(), actual.FrequenciesHz.ToArray());
        Assert.AreEqual(expected.Filters, actual.Filters);
        for (var i = 0; i < expected.Filters; i++) CollectionAssert.AreEqual(expected.Row(i).ToArray(), actual.Row(i).ToArray());
        CollectionAssert.AreEqual(expected.RankOf.ToArray(), actual.RankOf.ToArray());
    }

    [TestMethod]
    public void ReopenedLogAppendsWithoutASecondHeaderAndALaterRecordOfAnEpochReplacesTheEarlier()
    {
        var first = RandomResponse(3, 4, seed: 1);
        var rerun = RandomResponse(3, 4, seed: 9);
        var log = new FrequencyResponseLog(_temp.Path);
        log.Append(1, 1, first, FilterBankSummary.Of(1, 1, first));
        log.Append(1, 2, first, FilterBankSummary.Of(1, 2, first));
        new FrequencyResponseLog(_temp.Path).Append(1, 2, rerun, FilterBankSummary.Of(1, 2, rerun)); // resumed after epoch 1

        var path = Path.Combine(_temp.Path, FrequencyResponseLog.ResponseFileName);
        Assert.AreEqual(1, File.ReadLines(path).Count(l => l.StartsWith("fold")));
        var responses = FrequencyResponseLog.ReadResponses(path);
        CollectionAssert.AreEqual(new[] { 1, 2 }, responses.Select(r => r.Epoch).ToArray());
        AssertSameResponse(rerun, responses[1].Response);
    }

    [TestMethod]
    public void LineCutShortByAKilledProcessIsDroppedBeforeTheNextAppend()
    {
        var first = RandomResponse(3, 4, seed: 1);
        var second = RandomResponse(3, 4, seed: 2);
        new FrequencyResponseLog(_temp.Path).Append(1, 1, first, FilterBankSummary.Of(1, 1, first));
        var path = Path.Combine(_temp.Path, FrequencyResponseLog.ResponseFileName);
        File.AppendAllText(path, "1,2,0,0,10.0"); // killed in the middle of epoch 2's first row

        new FrequencyResponseLog(_temp.Path).Append(1, 2, second, FilterBankSummary.Of(1, 2, second));

        var responses = FrequencyResponseLog.ReadResponses(path);
        CollectionAssert.AreEqual(new[] { 1, 2 }, responses.Select(r => r.Epoch).ToArray());
        AssertSameResponse(second, responses[1].Response);
    }

    [TestMethod]
    public void ExistingFileWithAnotherHeaderIsRefusedByName()
    {
        var path = Path.Combine(_temp.Path, FrequencyResponseLog.ResponseFileName);
        File.WriteAllText(path, "epoch,loss\n1,2.3\n");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => new FrequencyResponseLog(_temp.Path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "fold,epoch,filter,rank,frequency_hz,response");
    }

    [TestMethod]
    public void IncompleteEpochIsReportedWithFileAndEpoch()
    {
        var path = Path.Combine(_temp.Path, FrequencyResponseLog.ResponseFileName);
        // Epoch 4 lacks filter 1 at 20 Hz, and epoch 5 after it shows the file was not simply cut short.
        File.WriteAllText(path, "fold,epoch,filter,rank,frequency_hz,response\n1,4,0,0,10,1\n1,4,0,0,20,1\n1,4,1,1,10,1\n" +
                                "1,5,0,0,10,1\n1,5,0,0,20,1\n1,5,1,1,10,1\n1,5,1,1,20,1\n");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => FrequencyResponseLog.ReadResponses(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "epoch 4");
    }

    [TestMethod]
    public void LastEpochCutShortIsLeftOut()
    {
        var path = Path.Combine(_temp.Path, FrequencyResponseLog.ResponseFileName);
        File.WriteAllText(path, "fold,epoch,filter,rank,frequency_hz,response\n" +
                                "1,1,0,0,10,1\n1,1,0,0,20,2\n1,1,1,1,10,3\n1,1,1,1,20,4\n1,2,0,0,10,1\n1,2,0,0,20,2\n");
        CollectionAssert.AreEqual(new[] { 1 }, FrequencyResponseLog.ReadResponses(path).Select(r => r.Epoch).ToArray());
    }
}
