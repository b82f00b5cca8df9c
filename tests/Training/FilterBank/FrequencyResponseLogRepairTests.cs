using EnvNet.Training.FilterBank;

namespace EnvNet.Tests;

/// <summary>
/// freqresp.csv holds whole epochs only (issue 21, case 6): an epoch a process left unfinished (a full disk or a kill
/// while its rows were written, or before its summary row) is cut off when the log is opened again, so the resumed
/// run's next epoch follows the last whole one and the file reads back without error.
/// </summary>
[TestClass]
public sealed class FrequencyResponseLogRepairTests
{
    private static readonly double[] Frequencies = [100, 200, 400, 800];
    private const int Filters = 3;

    private static FilterBankResponse Response(int epoch) =>
        new(Frequencies, Filters, Enumerable.Range(0, Filters * Frequencies.Length).Select(i => (float)((i * 7 + epoch) % 11)).ToArray());

    private static void Record(FrequencyResponseLog log, int epoch) =>
        log.Append(1, epoch, Response(epoch), FilterBankSummary.Of(1, epoch, Response(epoch)));

    [TestMethod]
    [DataRow(3, DisplayName = "rows cut short, summary row not written")]
    [DataRow(Filters * 4, DisplayName = "rows whole, summary row not written")]
    public void UnfinishedLastEpochIsCutAndTheNextEpochFollowsTheLastWholeOne(int rowsOfEpoch2)
    {
        using var dir = new TempDir();
        var log = new FrequencyResponseLog(dir.Path);
        Record(log, 1);
        var wholeLength = new FileInfo(log.ResponsePath).Length;
        var summaryBefore = File.ReadAllText(log.SummaryPath);
        Record(log, 2);
        // What a process stopped inside epoch 2's record leaves: some of its rows, and no summary row.
        var lines = File.ReadAllLines(log.ResponsePath);
        var kept = 1 + Filters * Frequencies.Length + rowsOfEpoch2;
        File.WriteAllText(log.ResponsePath, string.Join("\n", lines.Take(kept)) + "\n");
        File.WriteAllText(log.SummaryPath, summaryBefore);

        var reopened = new FrequencyResponseLog(dir.Path);

        Assert.AreEqual(wholeLength, new FileInfo(log.ResponsePath).Length, "epoch 2's unfinished record is cut off");
        Record(reopened, 3);
        var epochs = FrequencyResponseLog.ReadResponses(log.ResponsePath).Select(r => r.Epoch).ToArray();
        CollectionAssert.AreEqual(new[] { 1, 3 }, epochs);
        CollectionAssert.AreEqual(new[] { 1, 3 }, FrequencyResponseLog.ReadSummaries(log.SummaryPath).Select(s => s.Epoch).ToArray());
    }

    [TestMethod]
    public void FirstEpochCutShortLeavesTheHeaderOnly()
    {
        using var dir = new TempDir();
        var log = new FrequencyResponseLog(dir.Path);
        Record(log, 0);
        var lines = File.ReadAllLines(log.ResponsePath);
        File.WriteAllText(log.ResponsePath, string.Join("\n", lines.Take(4)) + "\n"); // header and 3 of 12 rows
        File.WriteAllText(log.SummaryPath, "");

        _ = new FrequencyResponseLog(dir.Path);

        Assert.AreEqual(lines[0], File.ReadAllText(log.ResponsePath).TrimEnd('\n'));
    }

    [TestMethod]
    public void WholeEpochsAreLeftAsTheyAre()
    {
        using var dir = new TempDir();
        var log = new FrequencyResponseLog(dir.Path);
        Record(log, 0);
        Record(log, 1);
        var bytes = File.ReadAllBytes(log.ResponsePath);

        _ = new FrequencyResponseLog(dir.Path);

        CollectionAssert.AreEqual(bytes, File.ReadAllBytes(log.ResponsePath));
    }
}
