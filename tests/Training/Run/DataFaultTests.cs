using System.Diagnostics;
using System.Text.Json.Nodes;
using EnvNet.Esc50Dataset;
using EnvNet.Training.Commands;
using EnvNet.Training.Run;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// Data that cannot be read while training (issue 21, cases 2 and 6): a clip whose file is a FIFO, a folder or
/// unreadable stops the run with one error line naming it (exit 1, no run.json left behind, so the same command can
/// run again) or is skipped with --skip-bad; a failed <c>--resume --epochs N</c> leaves run.json as it was; a stop
/// request while decoding ends the load after the clips in hand; temporary cache files of a killed writer are removed.
/// </summary>
[TestClass]
public sealed class DataFaultTests
{
    private static TempDir _root = null!;

    [ClassInitialize]
    public static void CreateScratch(TestContext _) => _root = new TempDir();

    [ClassCleanup]
    public static void DeleteScratch() => _root.Dispose();

    /// <summary>A copy of the tiny run's data with one clip outside fold 1 (so fold 1 keeps clips to train and
    /// validate on when it is skipped) put in the given state; returns the folder and that clip's path.</summary>
    private static (string Data, string Clip) DataWithBadClip(string name, string state)
    {
        var data = _root.Sub(name);
        SpecialFiles.CopyFolder(TinyTrainingRun.Data, data);
        var metadata = Esc50Metadata.Load(data);
        var clip = metadata.AudioPath(metadata.Clips.First(c => c.Fold != 1));
        switch (state)
        {
            case "fifo":
                File.Delete(clip);
                SpecialFiles.Fifo(clip);
                break;
            case "folder":
                File.Delete(clip);
                Directory.CreateDirectory(clip);
                break;
            case "unreadable":
                SpecialFiles.Unreadable(clip);
                break;
            default:
                throw new ArgumentException(state, nameof(state));
        }
        return (data, clip);
    }

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    [DataRow("fifo")]
    [DataRow("folder")]
    [DataRow("unreadable")]
    public void UnreadableClipStopsTrainingWithOneLineAndSkipBadSkipsIt(string state)
    {
        if (state == "unreadable" && SpecialFiles.IsRoot)
            Assert.Inconclusive("Running as root, which reads a file whatever its permissions: permission denied cannot be made here. " +
                                "The fifo and folder rows take the same path (a file-system error while reading becomes one line naming the file).");
        var (data, clip) = DataWithBadClip($"data-{state}", state);
        var cache = _root.Sub($"cache-{state}");
        var run = _root.Sub($"run-{state}");
        string[] train = ["train", "--data", data, "--out", run, "--cache", cache, .. TinyTrainingRun.Recipe];

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var (code, _, error) = Cli(train);
            Assert.AreEqual(ExitCodes.Failure, code, $"attempt {attempt}: {error}");
            StringAssert.Contains(LastError(run), clip, $"attempt {attempt}");
            Assert.IsFalse(File.Exists(Path.Combine(run, RunFolder.RunFileName)),
                "a run that could not load its data leaves no run.json, so the same command runs again (attempt 2) instead of exit 2");
        }

        var skipping = _root.Sub($"run-{state}-skip");
        var (skipCode, _, skipError) = Cli(["train", "--data", data, "--out", skipping, "--cache", cache, "--skip-bad", .. TinyTrainingRun.Recipe]);
        Assert.AreEqual(ExitCodes.Success, skipCode, skipError);
        StringAssert.Contains(File.ReadAllText(Path.Combine(skipping, RunConsole.LogFileName)), Path.GetFileName(clip));
    }

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void FailedResumeWithMoreEpochsLeavesRunJsonAsItWasAndTheRetryExtends()
    {
        var (data, clip) = DataWithBadClip("data-resume", "fifo");
        var run = _root.Sub("resume");
        SpecialFiles.CopyFolder(TinyTrainingRun.Finished, run);
        var runFile = Path.Combine(run, RunFolder.RunFileName);
        var json = JsonNode.Parse(File.ReadAllText(runFile))!.AsObject();
        (json["dataDir"], json["cacheDir"], json["outDir"]) = (data, _root.Sub("cache-resume"), run);
        File.WriteAllText(runFile, json.ToJsonString());
        var before = File.ReadAllText(runFile);

        var (code, _, error) = Cli("train", "--resume", "--epochs", "4", "--out", run);
        Assert.AreEqual(ExitCodes.Failure, code, error);
        StringAssert.StartsWith(LastError(run), clip + ": ");
        Assert.AreEqual(before, File.ReadAllText(runFile), "the failed extension did not record 4 epochs");

        File.Delete(clip);
        File.Copy(Path.Combine(TinyTrainingRun.Data, Esc50Metadata.AudioFolder, Path.GetFileName(clip)), clip);
        var (retry, _, retryError) = Cli("train", "--resume", "--epochs", "4", "--out", run);
        Assert.AreEqual(ExitCodes.Success, retry, retryError);
        Assert.AreEqual(4, TrainOptions.FromJson(File.ReadAllText(runFile), runFile).Epochs);
    }

    [TestMethod]
    public void StopRequestWhileDecodingEndsTheLoadAfterTheClipsInHand()
    {
        var data = _root.Sub("data-many");
        SyntheticEsc50.Write(data, classes: 2, clipsPerClassPerFold: 6, seed: 5);
        var dataset = Esc50Metadata.Load(data).ToDataset();
        using var stop = new CancellationTokenSource();
        var done = 0;
        Assert.ThrowsExactly<OperationCanceledException>(() => ClipStore.Load(dataset, 16000, _root.Sub("cache-stop"), skipBad: false,
            clipsDone: count =>
            {
                Interlocked.Exchange(ref done, count);
                stop.Cancel();
            },
            cancel: stop.Token));
        Assert.IsLessThan(dataset.Clips.Count, done, "clips after the stop request were not decoded");
    }

    [TestMethod]
    public void StopRequestWhileGeneratingTheEmbeddedDataEndsItAndLeavesNoPartialFolder()
    {
        var dataDir = Path.Combine(_root.Sub("embedded-stop"), "twin");
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => EmbeddedDefault.EnsureData(dataDir, Serilog.Core.Logger.None, stop.Token));
        Assert.IsFalse(Directory.Exists(dataDir), "no data folder");
        Assert.AreEqual(0, Directory.GetDirectories(Path.GetDirectoryName(dataDir)!).Length, "no partial folder left");
    }

    [TestMethod]
    public void PartialEmbeddedDataOfAKilledProcessIsRemovedAndTheDataGenerated()
    {
        var dataDir = Path.Combine(_root.Sub("embedded-orphan"), "twin");
        using var gone = Process.Start("true")!;
        gone.WaitForExit();
        var orphan = $"{dataDir}.partial-{gone.Id}";
        Directory.CreateDirectory(Path.Combine(orphan, "audio"));
        EmbeddedDefault.EnsureData(dataDir, Serilog.Core.Logger.None);
        Assert.IsFalse(Directory.Exists(orphan), "the killed generation's folder is removed");
        Assert.IsTrue(File.Exists(Path.Combine(dataDir, "meta", "esc50.csv")), "the data is generated");
    }

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void TemporaryCacheFilesOfAKilledWriterAreRemovedAndALiveWritersKept()
    {
        var cache = _root.Sub("cache-orphans");
        Directory.CreateDirectory(cache);
        using var gone = Process.Start("true")!;
        gone.WaitForExit();
        var orphan = Path.Combine(cache, $"1-100000-A-0-0123456789abcdef.clip.{gone.Id}.{Guid.NewGuid():N}.tmp");
        var live = Path.Combine(cache, $"1-100000-A-0-0123456789abcdef.clip.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(orphan, [1, 2, 3]);
        File.WriteAllBytes(live, [1, 2, 3]);

        ClipStore.Load(Esc50Metadata.Load(TinyTrainingRun.Data).ToDataset(), 16000, cache, skipBad: false);

        Assert.IsFalse(File.Exists(orphan), "the killed writer's temporary file is removed");
        Assert.IsTrue(File.Exists(live), "a running writer's temporary file is left alone");
    }
}
