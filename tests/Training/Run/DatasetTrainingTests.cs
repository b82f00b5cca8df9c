using System.Text.Json;
using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;
using EnvNet.Training.Commands;
using EnvNet.Training.Run;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// Whole runs on the other datasets' twins, on the CPU: m5 on fold 10 of an UrbanSound8K twin (a fold ESC-50 does not
/// have), and envnet-tiny on a class-folder twin, whose split is made, recorded, kept on resume and read by evaluate,
/// and whose class names predict shows.
/// </summary>
[TestClass]
public sealed class DatasetTrainingTests
{
    private static TempDir _root = null!;
    private static string Cache => _root.Sub("cache");

    [ClassInitialize]
    public static void WriteTwins(TestContext _)
    {
        _root = new TempDir();
        SyntheticTwins.WriteUrbanSound8K(_root.Sub("us8k"), classes: 2, clipsPerClassPerFold: 1, seed: 1);
        SyntheticTwins.WriteClassFolders(_root.Sub("my-sounds"), classes: 3, clipsPerClass: 5, seed: 1);
    }

    [ClassCleanup]
    public static void Delete() => _root.Dispose();

    private static JsonElement RunFile(string runDir) => JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, RunFolder.RunFileName))).RootElement;

    [TestMethod]
    public void M5TrainsFoldTenOfUrbanSound8KWhichEsc50Refuses()
    {
        var run = _root.Sub("run-us8k");
        var (code, _, error) = Cli("train", "--data", _root.Sub("us8k"), "--model", "m5", "--epochs", "1", "--folds", "10", "--batch", "8",
            "--test-crops", "2", "--freqresp-every", "0", "--accelerator", "cpu", "--out", run, "--cache", Cache);
        Assert.AreEqual(ExitCodes.Success, code, error);
        var options = RunFile(run);
        Assert.AreEqual("urbansound8k", options.GetProperty("dataset").GetString());
        Assert.AreEqual(10, options.GetProperty("foldCount").GetInt32());
        CollectionAssert.AreEqual(new[] { 10 }, options.GetProperty("folds").EnumerateArray().Select(f => f.GetInt32()).ToArray());
        Assert.IsTrue(File.Exists(new RunFolder(run).FoldWeights(10)));
        Assert.IsFalse(File.Exists(new RunFolder(run).FoldSplit), "UrbanSound8K's folds are its own: nothing to record");
        StringAssert.StartsWith(File.ReadLines(new RunFolder(run).Summary).ElementAt(1), "10,1,");
        StringAssert.Contains(File.ReadAllText(Path.Combine(run, RunConsole.LogFileName)), "UrbanSound8K (metadata/UrbanSound8K.csv and audio/foldN/), 20 clips, 2 classes, 10 folds");

        // the checkpoint evaluates on any of the ten folds
        (code, var output, error) = Cli("evaluate", "--checkpoint", Path.Combine(run, "fold-10", RunFolder.BestFileName), "--data", _root.Sub("us8k"),
            "--fold", "7", "--test-crops", "2", "--accelerator", "cpu", "--out", _root.Sub("eval-us8k"), "--cache", Cache);
        Assert.AreEqual(ExitCodes.Success, code, error);
        StringAssert.Contains(output, "on fold 7 with 2 test crops");

        (code, _, error) = Cli("train", "--data", Esc50TestData.SampleDir, "--folds", "10", "--out", _root.Sub("refused"), "--cache", Cache);
        Assert.AreEqual(ExitCodes.Usage, code);
        StringAssert.Contains(error, "--folds: expected fold numbers from 1 to 5 separated by commas (e.g. 2,4); got '10'.");
    }

    [TestMethod]
    public void ClassFoldersTrainOnARecordedSplitThatResumeAndEvaluateKeepAndPredictNamesTheClasses()
    {
        var data = _root.Sub("my-sounds");
        var run = _root.Sub("run-folders");
        string[] recipe = ["--model", "envnet-tiny", "--batch", "4", "--test-crops", "2", "--freqresp-every", "0", "--accelerator", "cpu", "--seed", "4"];
        var (code, _, error) = Cli(["train", "--data", data, "--epochs", "2", "--out", run, "--cache", Cache, .. recipe]);
        Assert.AreEqual(ExitCodes.Success, code, error);
        var options = RunFile(run);
        Assert.AreEqual("folders", options.GetProperty("dataset").GetString());
        Assert.IsFalse(options.TryGetProperty("subset", out _), "an ESC-50 subset means nothing here; resume reads the file without one");
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4, 5 }, options.GetProperty("folds").EnumerateArray().Select(f => f.GetInt32()).ToArray());
        var folder = new RunFolder(run);
        var split = File.ReadAllText(folder.FoldSplit);
        Assert.AreEqual(1 + 15, split.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.AreEqual(5, File.ReadLines(folder.Summary).Count(line => char.IsDigit(line[0])), "a summary row per fold");

        // a file added after the run started is not in its split: the resumed run leaves it out and keeps the split
        File.Copy(Path.Combine(data, "tone", "tone-000.wav"), Path.Combine(data, "tone", "tone-new.wav"));
        (code, _, error) = Cli("train", "--resume", "--out", run, "--epochs", "3");
        Assert.AreEqual(ExitCodes.Success, code, error);
        Assert.AreEqual(split, File.ReadAllText(folder.FoldSplit));
        StringAssert.Contains(File.ReadAllText(Path.Combine(run, RunConsole.LogFileName)), "not in the run's recorded split (folds.csv), left out");

        var checkpoint = Path.Combine(folder.FoldDir(2), RunFolder.BestFileName);
        (code, var output, error) = Cli("evaluate", "--checkpoint", checkpoint, "--data", data, "--test-crops", "2", "--accelerator", "cpu",
            "--out", _root.Sub("eval-folders"), "--cache", Cache);
        Assert.AreEqual(ExitCodes.Success, code, error);
        StringAssert.Contains(output, "on fold 2 with 2 test crops");
        StringAssert.Contains(output, $"/{split.Split('\n').Count(line => line.EndsWith(",2"))} clips)", "evaluate reads the recorded fold 2");

        (code, output, error) = Cli("predict", "--checkpoint", checkpoint, "--wav", Path.Combine(data, "chirp", "chirp-001.wav"), "--accelerator", "cpu");
        Assert.AreEqual(ExitCodes.Success, code, error);
        foreach (var name in new[] { "chirp", "noise_band", "tone" })
            StringAssert.Contains(output, name);
    }

    [TestMethod]
    public void TheDatasetOptionsAreCheckedAgainstTheDataset()
    {
        IReadOnlyList<string> Errors(TrainArguments a) => TrainOptionsValidator.Validate(a with { Out = _root.Sub("unused"), Cache = Cache }).Errors;
        var us8k = new TrainArguments { Data = _root.Sub("us8k") };
        CollectionAssert.AreEqual(new[] { "--subset: only for ESC-50; --data is urbansound8k (metadata/UrbanSound8K.csv and audio/foldN/)." },
            Errors(us8k with { Subset = "esc10" }).ToArray());
        CollectionAssert.AreEqual(new[] { "--fold-count: urbansound8k has its own 10 folds, used as they are; the option is for folders and csv." },
            Errors(us8k with { FoldCount = 4 }).ToArray());
        CollectionAssert.AreEqual(new[] { "--dataset: only with --data (the embedded default is its ESC-50 twin)." },
            Errors(new TrainArguments { Dataset = "folders" }).ToArray());

        var folders = TrainOptionsValidator.Validate(new TrainArguments { Data = _root.Sub("my-sounds"), FoldCount = 3, Out = _root.Sub("unused"), Cache = Cache });
        Assert.IsTrue(folders.IsValid, string.Join("; ", folders.Errors));
        Assert.AreSame(DatasetKind.Folders, folders.Value!.Dataset);
        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, folders.Value.Folds);
        Assert.AreEqual("--fold: expected a fold number from 1 to 3; got 4.",
            Errors(new TrainArguments { Data = _root.Sub("my-sounds"), FoldCount = 3, Fold = 4 }).Single());
        // forced: the class folders read as a list is refused before any work, naming what a list is
        Assert.AreEqual($"--data: expected a CSV file of path,label[,fold]; '{_root.Sub("my-sounds")}' is a folder.",
            Errors(new TrainArguments { Data = _root.Sub("my-sounds"), Dataset = "csv" }).Single());
    }

    [TestMethod]
    public void ARunFileWithoutADatasetIsEsc50()
    {
        // As run.json was written before there were dataset kinds: every other field, "subset", and neither "dataset"
        // nor "foldCount".
        var current = new TrainOptions { DataDir = "/data/ESC-50", Subset = Esc50Subset.Esc10, Folds = [2], OutDir = "/runs/a", CacheDir = "/cache" };
        var older = System.Text.Json.Nodes.JsonNode.Parse(current.ToJson())!.AsObject();
        older.Remove("dataset");
        older.Remove("foldCount");
        var options = TrainOptions.FromJson(older.ToJsonString(), "run.json");
        Assert.AreSame(DatasetKind.Esc50, options.Dataset);
        Assert.AreEqual(5, options.FoldCount);
        Assert.AreEqual("esc10", options.ClassSetName);
        Assert.AreEqual("urbansound8k", (options with { Dataset = DatasetKind.UrbanSound8K }).ClassSetName);
        // One of the two without the other is no older format but a damaged file.
        var damaged = System.Text.Json.Nodes.JsonNode.Parse(current.ToJson())!.AsObject();
        damaged.Remove("foldCount");
        var error = Assert.ThrowsExactly<InvalidDataException>(() => TrainOptions.FromJson(damaged.ToJsonString(), "run.json"));
        StringAssert.Contains(error.Message, "'foldCount'");
        StringAssert.Contains((options with { Dataset = DatasetKind.Folders }).ToJson(), "\"dataset\": \"folders\"");
    }

    [TestMethod]
    public void OnlyAnEsc50RunFileHasASubsetAndOnlyThereIsItRequired()
    {
        var esc50 = new TrainOptions { DataDir = "/data/ESC-50", Subset = Esc50Subset.Esc10, OutDir = "/runs/a", CacheDir = "/cache" };
        var folders = esc50 with { DataDir = "/data/my-sounds", Dataset = DatasetKind.Folders, Subset = Esc50Subset.Esc50 };
        Assert.IsTrue(JsonDocument.Parse(esc50.ToJson()).RootElement.TryGetProperty("subset", out _));
        Assert.IsFalse(JsonDocument.Parse(folders.ToJson()).RootElement.TryGetProperty("subset", out _), "a subset means nothing for class folders");
        Assert.AreEqual(folders, TrainOptions.FromJson(folders.ToJson(), "run.json") with { Folds = folders.Folds, LearningRateSteps = folders.LearningRateSteps });

        // written by the builds that recorded "subset": "esc50" for every dataset: still read
        var earlier = System.Text.Json.Nodes.JsonNode.Parse(folders.ToJson())!.AsObject();
        earlier["subset"] = "esc50";
        Assert.AreSame(DatasetKind.Folders, TrainOptions.FromJson(earlier.ToJsonString(), "run.json").Dataset);

        var withoutSubset = System.Text.Json.Nodes.JsonNode.Parse(esc50.ToJson())!.AsObject();
        withoutSubset.Remove("subset");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => TrainOptions.FromJson(withoutSubset.ToJsonString(), "run.json")).Message, "'subset'");
    }
}
