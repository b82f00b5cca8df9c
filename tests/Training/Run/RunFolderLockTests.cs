using System.Collections.Concurrent;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Commands;
using EnvNet.Training.Run;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// One process at a time owns a run folder (issue 21, case 1): a second envnet process started while the first
/// trains into the folder is refused with exit 2, the refusal naming the holder's PID, host and command; after the
/// holder is killed with SIGKILL the operating system has released the lock and the folder can be taken again.
/// The holder is a real child process (the built envnet.dll); the second process is this test process.
/// </summary>
[TestClass]
public sealed class RunFolderLockTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3); // the CPU accelerator on a busy machine

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void SecondProcessIsRefusedNamingTheHolderAndAKilledHolderLeavesNoStaleLock()
    {
        using var root = new TempDir();
        var run = root.Sub("run");
        var lockFile = Path.Combine(run, RunFolderLock.FileName);
        // Slow checkpoint writes keep the holder inside its run while this process tries the folder.
        var environment = new Dictionary<string, string> { [AtomicFile.TestDelayVariable] = "2000" };
        var lines = new ConcurrentQueue<string>();
        using var holder = Start(["train", "--data", TinyTrainingRun.Data, "--out", run, "--cache", TinyTrainingRun.Cache, .. TinyTrainingRun.Recipe],
            environment, lines.Enqueue);
        var holderErrors = holder.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow + Patience;
        while (!(File.Exists(lockFile) && ReadShared(lockFile).Contains($"PID {holder.Id} ")))
        {
            Assert.IsFalse(holder.HasExited, $"the holder ended before taking the lock: {holderErrors.Result}");
            Assert.IsLessThan(deadline, DateTime.UtcNow, "the holder did not take the lock in time");
            Thread.Sleep(50);
        }

        var (reportCode, _, reportError) = Cli("report", TinyTrainingRun.Finished, "--out", run);
        Assert.AreEqual(ExitCodes.Usage, reportCode, reportError);
        StringAssert.Contains(reportError, $"'{run}' is in use by another envnet process (PID {holder.Id} on host {Environment.MachineName}, envnet train, started ");
        Assert.AreEqual(1, reportError.Trim().Split('\n').Length, reportError);

        // A second --resume once the holder has written run.json: the case where two resumes both wrote every epoch.
        while (!File.Exists(Path.Combine(run, RunFolder.RunFileName)))
        {
            Assert.IsFalse(holder.HasExited, $"the holder ended before writing run.json: {holderErrors.Result}");
            Assert.IsLessThan(deadline, DateTime.UtcNow, "the holder did not write run.json in time");
            Thread.Sleep(50);
        }
        var (code, _, error) = Cli("train", "--resume", "--out", run);
        Assert.AreEqual(ExitCodes.Usage, code, error);
        StringAssert.Contains(error, $"(PID {holder.Id} on host {Environment.MachineName}, envnet train, started ");

        Assert.IsFalse(holder.HasExited, "the holder was still running during the refusals");
        holder.Kill(); // SIGKILL: no clean-up code runs in the holder
        holder.WaitForExit();
        using var taken = RunFolderLock.Take(run, "--out", "a test");
        StringAssert.Contains(ReadShared(lockFile), $"PID {Environment.ProcessId} ");
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }
}
