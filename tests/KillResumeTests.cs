using System.Collections.Concurrent;
using System.Diagnostics;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Cli;
using EnvNet.Training.Results;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// kill -9 of <c>envnet train</c> at six moments, each followed by <c>--resume</c>: in the first epoch, while a
/// checkpoint file is written, while the process starts, in the writes after an epoch's metrics row, while the
/// training state file is written and in a resumed epoch; each moment is a random delay after an event the test
/// watches for, and the seed is printed. The child processes run with ENVNET_TEST_CHECKPOINT_DELAY_MS, which makes
/// every atomic write pause three times (temporary file empty, written, before the rename) so that the kills can land
/// inside checkpoint writes. The last resume must finish with metrics.csv holding each epoch once, and metrics and
/// weights equal to those of the same run never interrupted (<see cref="TinyTrainingRun"/>, trained without the delays).
/// </summary>
[TestClass]
[Ignore("Unverified: written this session but never seen to finish on its overloaded 2-core machine (load average 300-575); run it on an idle machine, time it against the CI budget, and remove this attribute.")]
public sealed class KillResumeTests
{
    private const int CheckpointDelayMs = 250;
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
            var path = Path.Combine(runDir, MetricsFile.FileName);
            return File.Exists(path) ? File.ReadLines(path).Count() : 0;
        }
    }

    private sealed record KillPoint(string Moment, Func<Watch, bool> Ready, int MaxExtraDelayMs);

    private static readonly KillPoint[] KillPoints =
    [
        new("in the first epoch", w => w.Printed("Fold 1: "), 3000),
        new("while a checkpoint file is written", w => w.Written("*.safetensors.tmp").Length > 0, CheckpointDelayMs),
        new("while the process starts", _ => true, 4000),
        new("in the writes after an epoch's metrics row", w => w.FinishedAnEpoch, 4 * CheckpointDelayMs),
        new("while the training state file is written", w => w.Written(AtomicFile.TemporaryPath(TrainingCheckpoint.StateFile)).Length > 0, 0),
        new("in a resumed epoch", w => w.Printed("Fold 1: "), 3000),
    ];

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void KilledAtRandomMoments_ResumesToTheMetricsAndWeightsOfAnUninterruptedRun()
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
            WaitFor(() => point.Ready(watch), watch, errors, point.Moment);
            var extraDelay = random.Next(point.MaxExtraDelayMs + 1);
            Thread.Sleep(extraDelay);
            Assert.IsFalse(process.HasExited, $"envnet finished before the kill {point.Moment} (+{extraDelay} ms): {errors.Result}");
            var temporaries = watch.Written("*.tmp");
            process.Kill();
            process.WaitForExit();
            kills.Add($"{point.Moment} (+{extraDelay} ms){(temporaries.Length > 0 ? $" with {string.Join(", ", temporaries)} on disk" : "")}");
        }
        var report = $"seed {seed}: killed {kills.Count} times, each followed by --resume:\n  {string.Join("\n  ", kills)}";
        TestContext.WriteLine(report);
        Console.WriteLine(report);

        var (finalCode, _, finalError) = Cli("train", "--resume", "--out", run);
        Assert.AreEqual(ExitCodes.Success, finalCode, finalError);

        Assert.IsTrue(kills.Any(k => k.Contains(".safetensors.tmp")), "at least one kill landed inside a checkpoint write");
        var rows = MetricsFile.Read(Path.Combine(run, MetricsFile.FileName));
        CollectionAssert.AreEqual(Enumerable.Range(1, TinyTrainingRun.Epochs).Select(e => (1, e)).ToArray(), rows.Select(r => (r.Fold, r.Epoch)).ToArray(),
            "each epoch exactly once");
        CollectionAssert.AreEqual(Untimed(reference), Untimed(run));
        foreach (var file in new[] { TrainingCheckpoint.WeightsFile, TrainingCheckpoint.StateFile, TrainingCheckpoint.BestFile })
            Assert.AreEqual(
                SafeTensors.ReadFile(Path.Combine(reference, "fold-1", file)).Metadata[SafeTensors.ChecksumKey],
                SafeTensors.ReadFile(Path.Combine(run, "fold-1", file)).Metadata[SafeTensors.ChecksumKey], $"{file}: the same tensors");
    }

    private static void WaitFor(Func<bool> ready, Watch watch, Task<string> errors, string moment)
    {
        var clock = Stopwatch.StartNew();
        while (!ready())
        {
            if (watch.Process.HasExited)
                Assert.Fail($"envnet exited with {watch.Process.ExitCode} before the kill {moment}: {errors.Result}");
            if (clock.Elapsed > PatienceForEachStep)
                Assert.Fail($"no moment to kill {moment} after {PatienceForEachStep.TotalMinutes} minutes");
            Thread.Sleep(10);
        }
    }
}
