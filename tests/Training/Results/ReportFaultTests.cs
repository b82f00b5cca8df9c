using EnvNet.Training.Commands;
using EnvNet.Training.Run;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// <c>envnet report</c> does not write over its inputs and does not pass on a run that two processes wrote (issue
/// 21, cases 1 and 3): --out naming one of its run folders is refused with exit 2 and the folder left as it was; a
/// metrics.csv with an epoch twice is refused with one line naming the file, fold and epoch.
/// </summary>
[TestClass]
public sealed class ReportFaultTests
{
    [TestMethod]
    public void OutNamingOneOfItsRunFoldersIsRefusedAndTheFolderKept()
    {
        using var dir = new TempDir();
        var run = dir.Sub("run");
        SpecialFiles.CopyFolder(TinyTrainingRun.Finished, run);
        var metrics = File.ReadAllBytes(Path.Combine(run, RunFolder.MetricsFileName));

        var (code, _, error) = Cli("report", run, "--out", Path.Combine(run, "fold-1", ".."));

        Assert.AreEqual(ExitCodes.Usage, code, error);
        StringAssert.StartsWith(error, "error: --out: expected a path other than the command's input RUN_DIR; ");
        CollectionAssert.AreEqual(metrics, File.ReadAllBytes(Path.Combine(run, RunFolder.MetricsFileName)));
    }

    [TestMethod]
    public void MetricsWithAnEpochTwiceAreRefusedNamingTheFileFoldAndEpoch()
    {
        using var dir = new TempDir();
        var run = dir.Sub("run");
        SpecialFiles.CopyFolder(TinyTrainingRun.Finished, run);
        var metricsPath = Path.Combine(run, RunFolder.MetricsFileName);
        var lines = File.ReadAllLines(metricsPath);
        File.WriteAllLines(metricsPath, [.. lines, lines[^1]]); // what two processes appending at once left behind

        var (code, _, error) = Cli("report", run, "--out", dir.Sub("report"));

        Assert.AreEqual(ExitCodes.Failure, code, error);
        Assert.AreEqual($"error: {metricsPath}: fold 1 epoch {TinyTrainingRun.Epochs} has 2 rows; expected one (two processes wrote into this run at once?); it cannot be merged.",
            error.Trim());
    }
}
