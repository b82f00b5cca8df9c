using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Results;
using Serilog;

namespace EnvNet.Training.Run;

public enum TrainingOutcome { Completed, Stopped }

/// <summary>
/// K-fold cross-validation on a dataset (<see cref="SoundDataset"/>): for each fold, train on the other folds and validate on it with test crops
/// (<see cref="FoldTrainer"/>), writing the files of the <see cref="RunFolder"/>; the run-level results are
/// rewritten at the end of each fold.
/// </summary>
public sealed class TrainingService(TrainOptions options, IReadOnlyList<IEpochHook> hooks, ILogger log, CancellationToken stop)
{
    private readonly RunFolder _folder = new(options.OutDir);
    private readonly MetricsFile _metrics = new(new RunFolder(options.OutDir).Metrics);
    private readonly RunEta _eta = new();

    /// <summary>Writes run.json: the options of the run, which <c>--resume</c> reads back.</summary>
    public static void WriteRunFile(TrainOptions options) =>
        AtomicFile.WriteAllText(new RunFolder(options.OutDir).RunFile, options.ToJson());

    public TrainingOutcome Run()
    {
        SoundDataset dataset;
        try
        {
            dataset = LoadDataset(options, _folder, log, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            log.Warning("Stopped while generating the synthetic data, before training began; {RunDir} holds no run to resume", options.OutDir);
            return TrainingOutcome.Stopped;
        }
        var config = ModelRegistry.Config(options.Model, dataset.ClassCount);

        using var device = ComputeDevice.Create(options.Accelerator);
        var deviceLog = log.ForContext("Accelerator", device.Description);
        DeviceOutOfMemoryException.CheckEstimate(device, config, options.Batch);
        deviceLog.Information("Training {Model} ({Classes} classes, {SampleRate} Hz, {InputLength} samples per input) on {Accelerator}",
            config.Name, config.Classes, config.SampleRate, config.InputLength, device.Description);
        log.Information("{Epochs} {EpochsNoun} per fold, batch {Batch}, {Optimizer}, learning rate: {Schedule}; between-class learning {BetweenClass}, strong augmentation {StrongAugment}",
            options.Epochs, Wording.Noun(options.Epochs, "epoch"), options.Batch,
            Optimizers.Of(options.Optimizer).Describe(options.Momentum),
            options.Schedule.Describe(), options.BetweenClass ? "on" : "off", options.StrongAugment ? "on" : "off");

        ClipStore store = null!;
        try
        {
            RunConsole.Phase($"loading clips at {config.SampleRate} Hz", dataset.Clips.Count, line => log.Information("{Progress}", line), report =>
                store = ClipStore.Load(dataset, config.SampleRate, CacheFolder.PrepareClips(options.CacheDir, options.DataDir, config.SampleRate),
                    options.SkipBad, message => log.Information("{DatasetMessage}", message), clipsDone: done => report(done, null), cancel: stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            log.Warning("Stopped while loading clips, before training began; {RunDir} holds no run to resume", options.OutDir);
            return TrainingOutcome.Stopped;
        }
        if (store.SkippedCount > 0)
            log.Warning("Skipped {Skipped} unreadable {ClipsNoun} (--skip-bad): {Reasons}", store.SkippedCount, Wording.Noun(store.SkippedCount, "clip"), store.SkippedReasons);
        // Written once the run can start (device found, batch fits, data loaded), so a run that could not leaves no
        // run.json behind and can be retried into the same folder, and a failed --resume --epochs N leaves the run's
        // length as it was. The split of a dataset whose folds the program made is written beside it, once.
        WriteRunFile(options);
        if (dataset.FoldsMade && !File.Exists(_folder.FoldSplit))
            AtomicFile.WriteAllText(_folder.FoldSplit, FoldSplit.ToCsv(dataset.Clips));

        for (var f = 0; f < options.Folds.Length; f++)
        {
            var fold = options.Folds[f];
            TrainingOutcome outcome;
            try
            {
                outcome = new FoldTrainer(options, _folder, _metrics, _eta, hooks, stop)
                    .Train(device, config, store, dataset.ClassNames, fold, foldsAfter: options.Folds.Length - f - 1, deviceLog.ForContext("Fold", fold));
            }
            catch (Exception e) when (DeviceOutOfMemoryException.IsOutOfMemory(e, device.Type))
            {
                throw DeviceOutOfMemoryException.For(e, device, config, options.Batch);
            }
            WriteRunResults(dataset.ClassNames);
            if (outcome == TrainingOutcome.Stopped) return TrainingOutcome.Stopped;
        }

        var summary = RunSummary.FromMetrics(_metrics.ReadAll(), options.Epochs);
        var (mean, std) = RunSummary.MeanAndStd(summary.Select(s => s.FinalAccuracy).ToList());
        deviceLog.Information("Cross-validation finished ({Folds} {FoldsNoun}): final validation accuracy {MeanAccuracy:P1}{Spread}; results in {RunDir}",
            summary.Count, Wording.Noun(summary.Count, "fold"), mean, std is { } s ? $" ± {s:P1}" : "", options.OutDir);
        return TrainingOutcome.Completed;
    }

    /// <summary>The run's dataset, with the split the run recorded when it made its folds (a resumed run), and one
    /// log line saying what it is (not for the embedded default, which says so itself).</summary>
    public static SoundDataset LoadDataset(TrainOptions options, RunFolder folder, ILogger log, CancellationToken cancel = default)
    {
        if (options.Embedded) EmbeddedDefault.EnsureData(options.DataDir, log, cancel);
        var recorded = options.Dataset.OwnFoldCount is null && File.Exists(folder.FoldSplit)
            ? FoldSplit.Read(folder.FoldSplit, options.FoldCount)
            : null;
        var dataset = options.Dataset.Load(options.DataDir, options.LoadOptions(recorded, message => log.Warning("{DatasetMessage}", message)));
        if (!options.Embedded)
            log.Information("Dataset {Dataset}{Split}", dataset.Describe(),
                recorded is not null ? $"; folds as recorded in {folder.FoldSplit}" : dataset.FoldsMade ? $" made with seed {options.Seed}" : "");
        return dataset;
    }

    /// <summary>summary.csv, confusion.csv (summed over finished folds) and learning-curves.png from the files on disk,
    /// so they include folds finished before a resume.</summary>
    private void WriteRunResults(IReadOnlyList<string> classNames)
    {
        var rows = _metrics.ReadAll();
        if (rows.Count == 0) return;
        var finished = RunSummary.FromMetrics(rows, options.Epochs);
        RunSummary.Write(_folder.Summary, finished);
        var confusion = new ConfusionMatrix(classNames);
        foreach (var fold in finished) confusion.Add(ConfusionMatrix.Read(_folder.FoldConfusion(fold.Fold)));
        confusion.Write(_folder.Confusion);
        LearningCurvePlot.Write(_folder.LearningCurves, rows, options.Model);
    }
}

/// <summary>An option that cannot work, found after parsing (e.g. a batch too large for the device): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
