using System.CommandLine;
using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;
using EnvNet.Kernels;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet evaluate</c>: test-crop accuracy of a checkpoint on one fold, and its confusion matrix.</summary>
public static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string?>("--checkpoint") { HelpName = "FILE", Description = "Weights file (fold-K/best.safetensors or last.safetensors of a run)." };
        var data = new Option<string?>("--data") { HelpName = "DIR", Description = "The run's dataset: its folder, or the CSV file of a list." };
        var fold = new Option<int?>("--fold") { HelpName = "K", Description = $"Fold to evaluate (1 to the dataset's fold count). {CommonOptions.Default("the fold the checkpoint validated on")}" };
        var testCrops = new Option<int>("--test-crops") { HelpName = "N", Description = "Evenly spaced crops averaged per clip.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Crops per forward pass.", DefaultValueFactory = _ => 64 };
        var accelerator = CommonOptions.Accelerator();
        var output = new Option<string>("--out") { HelpName = "DIR", Description = "Folder for confusion-fold-K.csv.", DefaultValueFactory = _ => "." };
        var cache = CommonOptions.Cache();
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable audio files instead of stopping." };
        var command = new Command("evaluate", "Evaluate a checkpoint on one fold of its dataset: accuracy, loss and confusion matrix.")
        {
            checkpoint, data, fold, testCrops, batch, accelerator, output, cache, skipBad,
        };
        command.SetAction(parsed =>
        {
            var acceleratorErrors = new List<string>();
            var choice = TrainOptionsValidator.ParseAccelerator(parsed.GetValue(accelerator), acceleratorErrors);
            var failures = OptionChecks.Failures(
                OptionChecks.ExistingFile("--checkpoint", parsed.GetValue(checkpoint), "a .safetensors checkpoint"),
                OptionChecks.Dataset("--data", parsed.GetValue(data)),
                parsed.GetValue(fold) is { } k ? OptionChecks.Positive("--fold", k, "fold number") : null,
                OptionChecks.Positive("--test-crops", parsed.GetValue(testCrops), "number of crops"),
                OptionChecks.Positive("--batch", parsed.GetValue(batch), "batch size"),
                OptionChecks.WritableFolder("--out", parsed.GetValue(output)!),
                OptionChecks.WritableFolder("--cache", parsed.GetValue(cache) ?? CacheFolder.Default()),
                acceleratorErrors.FirstOrDefault());
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }
            return Run(context, parsed.GetValue(checkpoint)!, parsed.GetValue(data)!, parsed.GetValue(fold),
                parsed.GetValue(testCrops), parsed.GetValue(batch), choice ?? AcceleratorChoice.Auto,
                parsed.GetValue(output)!, parsed.GetValue(cache) ?? CacheFolder.Default(), parsed.GetValue(skipBad));
        });
        return command;
    }

    private static int Run(CliContext context, string checkpointPath, string dataDir, int? fold, int testCrops, int batch,
        AcceleratorChoice accelerator, string outDir, string cacheDir, bool skipBad)
    {
        using var device = ComputeDevice.Create(accelerator);
        var (model, info) = ModelCheckpoint.LoadModel(checkpointPath, device, batch);
        using (model)
        {
            var dataset = LoadDataset(checkpointPath, info, dataDir, skipBad, message => context.Error.WriteLine($"warning: {message}"));
            if (!dataset.ClassNames.SequenceEqual(info.ClassNames))
                throw new CheckpointException(
                    $"{checkpointPath}: trained on {info.ClassNames.Count} classes ({string.Join(", ", info.ClassNames.Take(3))}, ...) " +
                    $"that differ from the {dataset.ClassCount} classes of {dataDir}.");
            var validationFold = fold ?? info.Fold;
            if (validationFold > dataset.FoldCount)
                throw new UsageException($"--fold: expected a fold number from 1 to {dataset.FoldCount} ({dataset.Name}); got {validationFold}.");
            ClipStore store = null!;
            RunConsole.Phase($"loading clips at {model.Config.SampleRate} Hz", dataset.Clips.Count, context.Error.WriteLine, report =>
                store = ClipStore.Load(dataset, model.Config.SampleRate, CacheFolder.PrepareClips(cacheDir, dataDir, model.Config.SampleRate),
                    skipBad, clipsDone: done => report(done, null)));
            var (_, validation) = store.Split(validationFold);
            if (validation.Count == 0) throw new InvalidDataException($"{dataDir}: fold {validationFold} has no clips.");

            EvaluationResult result = null!;
            RunConsole.Phase($"evaluating fold {validationFold}", validation.Count, context.Error.WriteLine, report =>
                result = new TestCropEvaluator(model, testCrops).Evaluate(validation, info.ClassNames, done => report(done, null)));
            Directory.CreateDirectory(outDir);
            var confusionPath = Path.GetFullPath(Path.Combine(outDir, $"confusion-fold-{validationFold}.csv"));
            result.Confusion.Write(confusionPath);
            var correct = Enumerable.Range(0, info.ClassNames.Count).Sum(i => result.Confusion[i, i]);
            context.Out.WriteLine(
                $"{info.Model} (fold {info.Fold}, epoch {info.Epoch}) on fold {validationFold} with {testCrops} test crops on {device.Type} {device.Name}: " +
                $"accuracy {result.Accuracy:P2} ({correct}/{result.Confusion.Total} clips), loss {result.Loss:F4}");
            if (validationFold != info.Fold)
                context.Out.WriteLine($"note: this checkpoint validated on fold {info.Fold}, so it trained on fold {validationFold}; the accuracy is not a held-out estimate.");
            context.Out.WriteLine($"confusion matrix: {confusionPath}");
            return ExitCodes.Success;
        }
    }

    /// <summary>The checkpoint's dataset as its run read it: the kind and fold count of the run's options (a checkpoint
    /// without them predates other datasets and is ESC-50), the subset it names, and the split the run recorded when
    /// it made its folds, from the run folder the checkpoint is in (fold-K/ of it).</summary>
    private static SoundDataset LoadDataset(string checkpointPath, CheckpointInfo info, string dataDir, bool skipBad, Action<string> warn)
    {
        var runOptions = info.TrainingOptions is { } json ? TrainOptions.FromJson(json, checkpointPath) : null;
        var kind = runOptions?.Dataset ?? DatasetKind.Esc50;
        var runFolder = new RunFolder(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(checkpointPath)))!);
        var recorded = kind.OwnFoldCount is null && runOptions is not null && File.Exists(runFolder.FoldSplit)
            ? FoldSplit.Read(runFolder.FoldSplit, runOptions.FoldCount)
            : null;
        var dataset = kind.Load(Path.GetFullPath(dataDir), new DatasetLoadOptions(Esc50Subset.Parse(info.Subset), runOptions?.FoldCount ?? Esc50Metadata.Folds,
            runOptions?.Seed ?? 0, recorded, skipBad, warn));
        if (dataset.FoldsMade && recorded is null)
            throw new CheckpointException(
                $"{checkpointPath}: the split its run made of {dataDir} is not at {runFolder.FoldSplit}; evaluate a checkpoint inside its run folder, " +
                $"which records the split ({FoldSplit.FileName}) when the run starts.");
        return dataset;
    }
}
