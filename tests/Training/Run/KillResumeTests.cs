using System.Collections.Concurrent;
using System.Diagnostics;
using EnvNet.Training.Run;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Commands;
using EnvNet.Training.Results;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// kill -9 of <c>envnet train</c> at six moments, each followed by <c>--resume</c>, each a random delay (the seed is
/// printed) after an event the test watches for: in the first epoch; while a checkpoint file is written; while the
/// process starts; in the writes after an epoch's metrics row (which the resumed run must drop and write again); in
/// the epoch after a committed checkpoint (so the next process resumes from it); and between the rename of the
/// weights and the rename of the training state (which the next load must finish; this one-pause window is the only
/// moment a watcher starved of CPU may miss, and at least five kills are required). The child processes run with
/// ENVNET_TEST_CHECKPOINT_DELAY_MS, which makes every atomic write pause three times (temporary file empty, written,
/// before the rename) so that kills can land inside checkpoint writes. The last resume must finish with metrics.csv
/// holding each epoch once, and metrics and weights equal to those of the same run never interrupted
/// (<see cref="TinyTrainingRun"/>, trained without the delays).
/// </summary>
[TestClass]
public sealed class KillResumeTests
{
    private const int CheckpointDelayMs = 1000; // a window the watcher can hit between two renames on a busy machine
    private static readonly TimeSpan PatienceForEachStep = TimeSpan.FromMinutes(5); // the CPU accelerator on a busy machine

    public TestContext TestContext { get; set; } = null!;

    /// <summary>What the test sees of one envnet process: its output lines and the run folder's files.</summary>
    private sealed class Watch(string runDir, DateTime startedUtc, Process process, ConcurrentQueue<string> lines)
    {
        private readonly int _rowsAtStart = Rows(runDir);

        public Process Process => process;
        public bool Printed(string text) => lines.Any(l => l.Contains(text, StringComparison.Ordinal));
        public bool FinishedAnEpoch => Rows(runDir) > _rowsAtStart;
        /// <summary>The fold's files matching <paramref name="pattern"/> that this process has written (not ones an
        /// earlier kill left behind).</summary>
        public string[] Written(string pattern) => Directory.Exists(FoldDir)
            ? Directory.EnumerateFiles(FoldDir, pattern).Where(f => File.GetLastWriteTimeUtc(f) >= startedUtc).Select(f => Path.GetFileName(f)).ToArray()
            : [];

        private string FoldDir => Path.Combine(runDir, "fold-1");

        private static int Rows(string runDir)
        {
            var path = Path.Combine(runDir, RunFolder.MetricsFileName);
            return File.Exists(path) ? File.ReadLines(path).Count() : 0;
        }
    }

    private sealed record KillPoint(string Moment, Func<Watch, bool> Ready, int MaxExtraDelayMs);

    private static readonly KillPoint[] KillPoints =
    [
        new("in the first epoch", w => w.Printed("Fold 1: "), 3000),
        new("while a checkpoint file is written", w => w.Written("*.safetensors.tmp").Length > 0, CheckpointDelayMs),
        new("while the process starts", _ => true, 4000),
        new("in the writes after an epoch's metrics row", w => w.FinishedAnEpoch, 2 * CheckpointDelayMs),
        new("in the epoch after a committed checkpoint", w => w.Written(RunFolder.StateFileName).Length > 0, 2000),
        new("between the weights and the state renames",
            w => w.Written(RunFolder.WeightsFileName).Length > 0 && w.Written(AtomicFile.TemporaryPath(RunFolder.StateFileName)).Length > 0, 0),
    ];

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void KilledAtRandomMomentsResumesToTheMetricsAndWeightsOfAnUninterruptedRun()
    {
        var seed = Environment.TickCount & int.MaxValue;
        var random = new Random(seed);
        var reference = TinyTrainingRun.Finished;
        using var root = new TempDir();
        var run = root.Sub("killed");
        var environment = new Dictionary<string, string> { [AtomicFile.TestDelayVariable] = $"{CheckpointDelayMs}" };
        var kills = new List<string>();
        foreach (var point in KillPoints)
        {
            string[] args = kills.Count == 0
                ? ["train", "--data", TinyTrainingRun.Data, "--out", run, "--cache", TinyTrainingRun.Cache, .. TinyTrainingRun.Recipe]
                : ["train", "--resume", "--out", run];
            var lines = new ConcurrentQueue<string>();
            var startedUtc = DateTime.UtcNow;
            using var process = Start(args, environment, lines.Enqueue);
            var errors = process.StandardError.ReadToEndAsync();
            var watch = new Watch(run, startedUtc, process, lines);
            if (WaitFor(() => point.Ready(watch), watch, point.Moment))
            {
                var extraDelay = random.Next(point.MaxExtraDelayMs + 1);
                Thread.Sleep(extraDelay);
                var temporaries = watch.Written("*.tmp");
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit();
                    kills.Add($"{point.Moment} (+{extraDelay} ms){(temporaries.Length > 0 ? $" with {string.Join(", ", temporaries)} on disk" : "")}");
                    continue;
                }
            }
            // Only the last moment is a window narrow enough (one pause of the delay hook) for a watcher starved of
            // CPU to miss; then the run finishes by itself, as a resumed run should.
            process.WaitForExit();
            Assert.AreEqual(0, process.ExitCode, $"envnet failed before the kill {point.Moment}: {errors.Result}\nkills so far: {string.Join("; ", kills)}");
            Assert.AreSame(KillPoints[^1], point, $"the run finished before the kill {point.Moment}; kills so far: {string.Join("; ", kills)}");
            kills.Add($"{point.Moment}: missed, the run finished first");
        }
        var killCount = kills.Count(k => !k.Contains("missed"));
        var report = $"seed {seed}: {killCount} kills, each followed by --resume:\n  {string.Join("\n  ", kills)}";
        TestContext.WriteLine(report);
        Console.WriteLine(report);
        Assert.IsGreaterThanOrEqualTo(5, killCount);

        var (finalCode, _, finalError) = Cli("train", "--resume", "--out", run);
        Assert.AreEqual(ExitCodes.Success, finalCode, finalError);

        Assert.IsTrue(kills.Any(k => k.Contains(".safetensors.tmp")), "at least one kill landed inside a checkpoint write");
        Assert.IsFalse(File.Exists(Path.Combine(run, "fold-1", AtomicFile.TemporaryPath(RunFolder.StateFileName))),
            "the state left between the renames was committed by the last resume");
        var rows = MetricsFile.Read(Path.Combine(run, RunFolder.MetricsFileName));
        CollectionAssert.AreEqual(Enumerable.Range(1, TinyTrainingRun.Epochs).Select(e => (1, e)).ToArray(), rows.Select(r => (r.Fold, r.Epoch)).ToArray(),
            "each epoch exactly once");
        CollectionAssert.AreEqual(Untimed(reference), Untimed(run));
        foreach (var file in new[] { RunFolder.WeightsFileName, RunFolder.StateFileName, RunFolder.BestFileName })
            Assert.AreEqual(
                SafeTensors.ReadFile(Path.Combine(reference, "fold-1", file)).Metadata[SafeTensors.ChecksumKey],
                SafeTensors.ReadFile(Path.Combine(run, "fold-1", file)).Metadata[SafeTensors.ChecksumKey], $"{file}: the same tensors");
    }

    /// <summary>Waits until <paramref name="ready"/>; false when the process ended first.</summary>
    private static bool WaitFor(Func<bool> ready, Watch watch, string moment)
    {
        var clock = Stopwatch.StartNew();
        while (!ready())
        {
            if (watch.Process.HasExited) return false;
            if (clock.Elapsed > PatienceForEachStep)
                Assert.Fail($"no moment to kill {moment} after {PatienceForEachStep.TotalMinutes} minutes");
            Thread.Sleep(10);
        }
        return true;
    }
}
