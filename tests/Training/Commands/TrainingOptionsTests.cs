using EnvNet.Kernels;
using EnvNet.Training.Run;
using EnvNet.Training.Results;
using EnvNet.Training.Commands;

using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

[TestClass]
public sealed class TrainingOptionsTests
{
    [TestMethod]
    public void WithDataDefaultsAreTheEnvNetRecipe()
    {
        using var dir = new TempDir();
        var data = Esc50Folder.WriteMetadataOnly(dir.Sub("data"));
        var result = TrainOptionsValidator.Validate(new TrainArguments { Data = data, Out = dir.Sub("run"), Cache = dir.Sub("cache") });

        Assert.IsTrue(result.IsValid, string.Join("\n", result.Errors));
        var o = result.Value!;
        Assert.AreEqual(("envnet", 600, 64, 0.01, 0.9, 5e-4, 10, AcceleratorChoice.Auto, "esc50", false),
            (o.Model, o.Epochs, o.Batch, o.LearningRate, o.Momentum, o.WeightDecay, o.TestCrops, o.Accelerator, o.Subset.Name, o.Embedded));
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4, 5 }, o.Folds);
        CollectionAssert.AreEqual(new[] { 0.5, 0.75 }, o.LearningRateSteps);
    }

    [TestMethod]
    public void WithoutDataTheEmbeddedDefaultTrainsTheTinyModelOnTheSyntheticTwin()
    {
        using var dir = new TempDir();
        var o = TrainOptionsValidator.Validate(new TrainArguments { Out = dir.Sub("run"), Cache = dir.Sub("cache"), Epochs = 3 }).Value!;

        Assert.IsTrue(o.Embedded);
        Assert.AreEqual((EmbeddedDefault.Model, 3, EmbeddedDefault.Batch), (o.Model, o.Epochs, o.Batch), "explicit options still win");
        Assert.AreEqual(EmbeddedDefault.DataDir(dir.Sub("cache")), o.DataDir);
        CollectionAssert.AreEqual(EmbeddedDefault.Folds, o.Folds);
    }

    [TestMethod]
    public void ListsAndSingleFoldParse()
    {
        using var dir = new TempDir();
        var data = Esc50Folder.WriteMetadataOnly(dir.Sub("data"));
        var o = TrainOptionsValidator.Validate(new TrainArguments
        {
            Data = data, Out = dir.Sub("run"), Cache = dir.Sub("cache"), Folds = "4, 2", LearningRateSteps = "0.3,0.6,0.9", Accelerator = "CPU",
        }).Value!;
        CollectionAssert.AreEqual(new[] { 4, 2 }, o.Folds);
        CollectionAssert.AreEqual(new[] { 0.3, 0.6, 0.9 }, o.LearningRateSteps);
        Assert.AreEqual(AcceleratorChoice.Cpu, o.Accelerator);
        var single = TrainOptionsValidator.Validate(new TrainArguments { Data = data, Out = dir.Sub("run2"), Cache = dir.Sub("cache"), Fold = 3, LearningRateSteps = "none" }).Value!;
        CollectionAssert.AreEqual(new[] { 3 }, single.Folds);
        Assert.AreEqual(0, single.LearningRateSteps.Length);
    }

    [TestMethod]
    [DataRow("--accelerator", "tpu")]
    [DataRow("--data", "/nonexistent/ESC-50")]
    [DataRow("--data", "{tmp}")]
    [DataRow("--fold", "7")]
    [DataRow("--fold", "0")]
    [DataRow("--folds", "1,6")]
    [DataRow("--folds", "2,2")]
    [DataRow("--folds", "one")]
    [DataRow("--batch", "0")]
    [DataRow("--batch", "-64")]
    [DataRow("--epochs", "0")]
    [DataRow("--lr", "0")]
    [DataRow("--lr", "-0.1")]
    [DataRow("--lr-steps", "0.75,0.5")]
    [DataRow("--lr-steps", "0.5,1")]
    [DataRow("--lr-steps", "0,0.5")]
    [DataRow("--warmup-epochs", "-1")]
    [DataRow("--warmup-epochs", "600")]
    [DataRow("--momentum", "1")]
    [DataRow("--weight-decay", "-1")]
    [DataRow("--test-crops", "0")]
    [DataRow("--model", "resnet")]
    [DataRow("--subset", "esc20")]
    [DataRow("--out", "{file}/run")]
    public void InvalidOptionGetsOneLineNamingItAndExitCode2(string option, string value)
    {
        using var dir = new TempDir();
        var data = Esc50Folder.WriteMetadataOnly(dir.Sub("data"));
        File.WriteAllText(dir.Sub("file"), "");
        value = value.Replace("{tmp}", dir.Path).Replace("{file}", dir.Sub("file"));
        var given = new Dictionary<string, string> { ["--data"] = data, ["--out"] = dir.Sub("run"), ["--cache"] = dir.Sub("cache") };
        given[option] = value;
        string[] args = ["train", .. given.SelectMany(g => new[] { g.Key, g.Value })];

        var (code, output, error) = Cli(args);

        Assert.AreEqual(ExitCodes.Usage, code, error);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(1, lines.Length, error);
        StringAssert.StartsWith(lines[0], $"error: {option}");
        StringAssert.Contains(lines[0], "expected");
        Assert.AreEqual("", output);
        Assert.IsFalse(File.Exists(Path.Combine(dir.Sub("run"), "run.json")), "nothing was started");
    }

    /// <summary>Exit code 2 means nothing was done: no run folder, no cache folder, not even empty ones.</summary>
    [TestMethod]
    [DataRow("--batch", "0")]
    [DataRow("--lr", "-1")]
    [DataRow("--data", "/nonexistent/ESC-50")]
    public void RefusedCommandLineCreatesNoFolder(string option, string value)
    {
        using var dir = new TempDir();
        var (code, _, error) = Cli("train", "--out", dir.Sub("runs/first"), "--cache", dir.Sub("cache"), "--model", "envnet-tiny", option, value);

        Assert.AreEqual(ExitCodes.Usage, code, error);
        StringAssert.StartsWith(error, $"error: {option}");
        CollectionAssert.AreEqual(Array.Empty<string>(), Directory.GetFileSystemEntries(dir.Path));
    }

    [TestMethod]
    public void RecipeWarmupLongerThanTheRunSaysHowToTurnItOff()
    {
        using var dir = new TempDir();
        var data = Esc50Folder.WriteMetadataOnly(dir.Sub("data"));
        var (code, output, error) = Cli("train", "--data", data, "--model", "envnet-v2", "--epochs", "5",
            "--out", dir.Sub("run"), "--cache", dir.Sub("cache"));

        Assert.AreEqual(ExitCodes.Usage, code, error);
        Assert.AreEqual("error: --warmup-epochs: expected 0 (none) or a number of epochs below --epochs (5); got 10, " +
                        "the envnet-v2 recipe's warm-up: give --warmup-epochs 0 for a run this short.", error.Trim());
        Assert.AreEqual("", output);
        var withoutWarmup = TrainOptionsValidator.Validate(new TrainArguments
        {
            Data = data, Model = "envnet-v2", Epochs = 5, WarmupEpochs = 0, Out = dir.Sub("run"), Cache = dir.Sub("cache"),
        });
        Assert.IsTrue(withoutWarmup.IsValid, string.Join("\n", withoutWarmup.Errors));
    }

    [TestMethod]
    public void ExplicitAcceleratorMustBeOneIlgpuSees()
    {
        using var dir = new TempDir();
        var data = Esc50Folder.WriteMetadataOnly(dir.Sub("data"));
        var hasCuda = ComputeDevice.ListDevices().Any(d => d.Type == ILGPU.Runtime.AcceleratorType.Cuda);
        var result = TrainOptionsValidator.Validate(new TrainArguments { Data = data, Out = dir.Sub("run"), Cache = dir.Sub("cache"), Accelerator = "cuda" });

        Assert.AreEqual(hasCuda, result.IsValid);
        if (!hasCuda) StringAssert.StartsWith(result.Errors.Single(), "--accelerator: expected a CUDA device, but ILGPU finds none");
    }

    [TestMethod]
    [DataRow("train --batch abc")]
    [DataRow("train --no-such-option 1")]
    [DataRow("train --fold")]
    [DataRow("train --bc maybe")]
    [DataRow("train --warmup-epochs ten")]
    [DataRow("frobnicate")]
    [DataRow("")]
    public void ParseErrorsExitWith2(string commandLine)
    {
        var (code, _, error) = Cli(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.AreEqual(ExitCodes.Usage, code, error);
        StringAssert.StartsWith(error, "error: ");
    }

    [TestMethod]
    public void ResumeNeedsARunFolderAndTakesOnlyTheAccelerator()
    {
        using var dir = new TempDir();
        var data = Esc50Folder.WriteMetadataOnly(dir.Sub("data"));
        StringAssert.Contains(Cli("train", "--resume").Error, "--resume: expected --out DIR");
        StringAssert.Contains(Cli("train", "--resume", "--out", dir.Path).Error, "run.json");

        var run = dir.Sub("run");
        Directory.CreateDirectory(run);
        var options = TrainOptionsValidator.Validate(new TrainArguments
        {
            Data = data, Out = run, Cache = dir.Sub("cache"), Fold = 2, Model = "envnet-v2", BetweenClass = true, StrongAugment = true,
        }).Value!;
        File.WriteAllText(Path.Combine(run, RunFolder.RunFileName), options.ToJson());

        foreach (var option in new[] { "--bc", "--strong-augment", "--warmup-epochs 0" })
        {
            var (code, _, error) = Cli(["train", "--resume", "--out", run, .. option.Split(' ')]);
            Assert.AreEqual(ExitCodes.Usage, code);
            StringAssert.StartsWith(error, $"error: {option.Split(' ')[0]}: not allowed with --resume");
        }
        var (shorter, _, shorterError) = Cli("train", "--resume", "--out", run, "--epochs", "5");
        Assert.AreEqual(ExitCodes.Usage, shorter);
        Assert.AreEqual("error: --epochs: with --resume, expected more than the run's 2000 epochs to extend it; got 5.", shorterError.Trim());
        var resumed = TrainOptionsValidator.Validate(new TrainArguments { Resume = true, Out = run, Accelerator = "cpu" }).Value!;
        Assert.AreEqual(options with { Accelerator = AcceleratorChoice.Cpu }, resumed with { Folds = options.Folds, LearningRateSteps = options.LearningRateSteps });
        CollectionAssert.AreEqual(options.Folds, resumed.Folds);
        Assert.AreEqual((true, true, 10, 2000), (resumed.BetweenClass, resumed.StrongAugment, resumed.WarmupEpochs, resumed.Epochs), "run.json keeps the recipe and augmentation");

        var (again, _, againError) = Cli("train", "--data", data, "--out", run, "--cache", dir.Sub("cache"));
        Assert.AreEqual(ExitCodes.Usage, again);
        StringAssert.Contains(againError, "already holds a run; pass --resume");
    }

    /// <summary>A finished run continues to a larger --epochs: the epochs it had stay as they were, the schedule
    /// of the new ones is that of the new length, and run.json and the log say so.</summary>
    [TestMethod]
    public void ResumeWithMoreEpochsExtendsAFinishedRun()
    {
        using var dir = new TempDir();
        var run = dir.Sub("run");
        foreach (var source in Directory.EnumerateFiles(TinyTrainingRun.Finished, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(run, Path.GetRelativePath(TinyTrainingRun.Finished, source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
        var runFile = Path.Combine(run, RunFolder.RunFileName);
        var before = File.ReadAllText(runFile);

        var (same, _, sameError) = Cli("train", "--resume", "--out", run, "--epochs", $"{TinyTrainingRun.Epochs}");
        Assert.AreEqual(ExitCodes.Usage, same, sameError);
        Assert.AreEqual(before, File.ReadAllText(runFile), "a refused extension changes nothing");

        var (code, _, error) = Cli("train", "--resume", "--out", run, "--epochs", $"{TinyTrainingRun.Epochs + 1}");

        Assert.AreEqual(ExitCodes.Success, code, error);
        var metrics = Untimed(run);
        CollectionAssert.AreEqual(Untimed(TinyTrainingRun.Finished), metrics[..TinyTrainingRun.Epochs], "the epochs already trained stay");
        var added = MetricsFile.Read(Path.Combine(run, RunFolder.MetricsFileName)).Single(r => r.Epoch == TinyTrainingRun.Epochs + 1);
        Assert.AreEqual(0.001, added.LearningRate, 1e-12, "epoch 3 of 3 runs after 50 % of the new length: 0.01 / 10");
        var options = TrainOptions.FromJson(File.ReadAllText(runFile), runFile);
        Assert.AreEqual(TinyTrainingRun.Epochs + 1, options.Epochs);
        CollectionAssert.AreEqual(new[] { TinyTrainingRun.Epochs }, options.EpochsBeforeExtension);
        var extension = File.ReadLines(Path.Combine(run, RunConsole.LogFileName)).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Single(e => e.TryGetProperty("EpochsBefore", out _));
        StringAssert.StartsWith(extension.GetProperty("@mt").GetString(), "Extending the run from {EpochsBefore} to {Epochs} epochs per fold");
        Assert.AreEqual((TinyTrainingRun.Epochs, TinyTrainingRun.Epochs + 1), (extension.GetProperty("EpochsBefore").GetInt32(), extension.GetProperty("Epochs").GetInt32()));
    }

    [TestMethod]
    public void OtherCommandsValidateTheirOptionsWithExitCode2()
    {
        using var dir = new TempDir();
        var data = Esc50Folder.WriteMetadataOnly(dir.Sub("data"));
        Assert.AreEqual(ExitCodes.Usage, Cli("evaluate", "--checkpoint", dir.Sub("none.safetensors"), "--data", data).Code);
        Assert.AreEqual(ExitCodes.Usage, Cli("predict", "--checkpoint", dir.Sub("none.safetensors"), "--wav", dir.Sub("none.wav")).Code);
        Assert.AreEqual(ExitCodes.Usage, Cli("report", dir.Sub("no-run")).Code);
        Assert.AreEqual(ExitCodes.Usage, Cli("report").Code);
        Assert.AreEqual(ExitCodes.Usage, Cli("shapes", "--model", "resnet").Code);
        StringAssert.StartsWith(Cli("synth", "--out", dir.Path, "--classes", "51").Error, "error: --classes: expected a number of classes from 1 to 50");
    }

    [TestMethod]
    public void ShapesListsLayersParametersAndMemory()
    {
        var (code, output, _) = Cli("shapes", "--model", "envnet");
        Assert.AreEqual(ExitCodes.Success, code);
        StringAssert.Contains(output, "input 24014 samples");
        StringAssert.Contains(output, "learned spectrogram 40 x 150");
        StringAssert.Contains(output, "[1, 40, 1, 150]");
        StringAssert.Contains(output, "parameters: ");
        StringAssert.Contains(output, "device memory for a training step with batch 64");
    }

    [TestMethod]
    public void DevicesListsTheCpuAccelerator()
    {
        var (code, output, _) = Cli("devices");
        Assert.AreEqual(ExitCodes.Success, code);
        StringAssert.Contains(output, "CPU");
    }
}
