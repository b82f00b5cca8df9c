using System.Diagnostics;
using EnvNet.Esc50Dataset;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Cli;
using EnvNet.Training.Results;
using Serilog;

namespace EnvNet.Training;

public enum TrainingOutcome { Completed, Stopped }

/// <summary>
/// K-fold cross-validation on ESC-50: for each fold, train on the other folds and validate on it with test crops.
/// The run folder holds run.json (options), metrics.csv (a row per epoch and fold), per fold
/// fold-K/{last,last.state,best}.safetensors and confusion.csv, and over the finished folds summary.csv,
/// confusion.csv and learning-curves.png, rewritten at the end of each fold.
/// <para>Everything random is a function of the seed: the data stream of (fold seed, epoch), dropout of
/// (fold seed, step), the initial weights of the fold seed. A checkpoint therefore restores a run exactly, and a
/// resumed run ends with the same numbers as one that was never stopped.</para>
/// </summary>
public sealed class TrainingService(TrainOptions options, IReadOnlyList<IEpochHook> hooks, ILogger log, CancellationToken stop)
{
    private readonly MetricsFile _metrics = new(Path.Combine(options.OutDir, MetricsFile.FileName));
    private readonly RunEta _eta = new();

    /// <summary>The seed of one fold's model and data stream, fixed across processes and machines.</summary>
    public static int FoldSeed(int seed, int fold) => unchecked(seed * 1_000_003 + fold);

    /// <summary>The update rule for the log, worded as the model table words it (<see cref="TrainingRecipe.ToString"/>).</summary>
    private static string OptimizerName(TrainOptions options)
    {
        var momentum = options.Momentum.ToString("G12", System.Globalization.CultureInfo.InvariantCulture);
        return options.Optimizer switch
        {
            OptimizerKind.Adam => $"Adam (β1 {momentum})",
            OptimizerKind.Adadelta => $"Adadelta (rho {momentum})",
            OptimizerKind.SgdMomentum => $"SGD momentum {momentum}",
            _ => $"SGD-Nesterov {momentum}",
        };
    }

    public static LearningRateSchedule Schedule(TrainOptions options) =>
        new(options.LearningRate, options.LearningRateSteps, options.Epochs, options.WarmupEpochs);

    public static string FoldDir(string runDir, int fold) => Path.Combine(runDir, $"fold-{fold}");

    /// <summary>Writes run.json: the options of the run, which <c>--resume</c> reads back.</summary>
    public static void WriteRunFile(TrainOptions options) =>
        AtomicFile.WriteAllText(Path.Combine(options.OutDir, TrainOptions.RunFileName), options.ToJson());

    public TrainingOutcome Run()
    {
        var metadata = LoadMetadata(options, log);
        var config = ModelRegistry.Config(options.Model, metadata.ClassCount);

        using var device = ComputeDevice.Create(options.Accelerator);
        var deviceLog = log.ForContext("Accelerator", device.Description);
        CheckDeviceMemory(device, config);
        // Written once the run can start, so a run that could not (no such device, batch too large) leaves no
        // run.json behind and can be retried with other options into the same folder.
        WriteRunFile(options);
        deviceLog.Information("Training {Model} ({Classes} classes, {SampleRate} Hz, {InputLength} samples per input) on {Accelerator}",
            config.Name, config.Classes, config.SampleRate, config.InputLength, device.Description);
        log.Information("{Epochs} {EpochsNoun} per fold, batch {Batch}, {Optimizer}, learning rate: {Schedule}; between-class learning {BetweenClass}, strong augmentation {StrongAugment}",
            options.Epochs, Wording.Noun(options.Epochs, "epoch"), options.Batch,
            OptimizerName(options),
            Schedule(options).Describe(), options.BetweenClass ? "on" : "off", options.StrongAugment ? "on" : "off");

        ClipStore store = null!;
        RunConsole.Phase($"loading clips at {config.SampleRate} Hz", metadata.Clips.Count, line => log.Information("{Progress}", line), report =>
            store = ClipStore.Load(metadata, config.SampleRate, CacheFolder.PrepareClips(options.CacheDir, options.DataDir, config.SampleRate),
                options.SkipBad, message => log.Information("{DatasetMessage}", message), clipsDone: done => report(done, null)));
        if (store.SkippedCount > 0)
            log.Warning("Skipped {Skipped} unreadable {ClipsNoun} (--skip-bad): {Reasons}", store.SkippedCount, Wording.Noun(store.SkippedCount, "clip"), store.SkippedReasons);

        for (var f = 0; f < options.Folds.Length; f++)
        {
            var fold = options.Folds[f];
            TrainingOutcome outcome;
            try
            {
                outcome = TrainFold(device, config, store, metadata.ClassNames, fold, foldsAfter: options.Folds.Length - f - 1,
                    deviceLog.ForContext("Fold", fold));
            }
            catch (Exception e) when (DeviceOutOfMemoryException.IsOutOfMemory(e, device.Type))
            {
                throw DeviceOutOfMemoryException.For(e, device, config, options.Batch);
            }
            WriteRunResults(metadata.ClassNames);
            if (outcome == TrainingOutcome.Stopped) return TrainingOutcome.Stopped;
        }

        var summary = RunSummary.FromMetrics(_metrics.ReadAll(), options.Epochs);
        var (mean, std) = RunSummary.MeanAndStd(summary.Select(s => s.FinalAccuracy).ToList());
        deviceLog.Information("Cross-validation finished ({Folds} {FoldsNoun}): final validation accuracy {MeanAccuracy:P1}{Spread}; results in {RunDir}",
            summary.Count, Wording.Noun(summary.Count, "fold"), mean, std is { } s ? $" ± {s:P1}" : "", options.OutDir);
        return TrainingOutcome.Completed;
    }

    public static Esc50Metadata LoadMetadata(TrainOptions options, ILogger log)
    {
        if (options.Embedded) EnsureSyntheticData(options.DataDir, log);
        var metadata = Esc50Metadata.Load(options.DataDir, options.SkipBad, message => log.Warning("{DatasetMessage}", message));
        return options.Subset == "esc10" ? metadata.Esc10() : metadata;
    }

    /// <summary>Generates the embedded default's synthetic ESC-50 twin once; it is written to a temporary folder
    /// and renamed, so an interrupted generation is never mistaken for a finished one.</summary>
    private static void EnsureSyntheticData(string dataDir, ILogger log)
    {
        if (File.Exists(Path.Combine(dataDir, "meta", "esc50.csv"))) return;
        log.Information("Generating the synthetic ESC-50 twin ({Classes} classes, {Clips} clips per class and fold) into {DataDir}",
            EmbeddedDefault.Classes, EmbeddedDefault.ClipsPerClassPerFold, dataDir);
        var temporary = dataDir + $".partial-{Environment.ProcessId}";
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        var clips = EmbeddedDefault.Classes * EmbeddedDefault.ClipsPerClassPerFold * Esc50Metadata.Folds;
        RunConsole.Phase("generating synthetic clips", clips, line => log.Information("{Progress}", line), report =>
            SyntheticEsc50.Write(temporary, EmbeddedDefault.Classes, EmbeddedDefault.ClipsPerClassPerFold, EmbeddedDefault.DataSeed,
                done => report(done, null)));
        Directory.Move(temporary, dataDir);
    }

    private void CheckDeviceMemory(ComputeDevice device, ModelConfig config)
    {
        var needed = NetworkModel.EstimateTrainingBytes(config, options.Batch);
        if (device.Type == ILGPU.Runtime.AcceleratorType.CPU)
        {
            // Linux grants allocations beyond the host's memory and kills the process when the pages are touched, so
            // a batch that cannot fit is refused here, with the message an allocation failure gets.
            var hostBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            if (needed > hostBytes)
                throw DeviceOutOfMemoryException.For(new OutOfMemoryException($"the estimate exceeds the host's {hostBytes} bytes"), device, config, options.Batch);
            return;
        }
        var available = device.Accelerator.MemorySize;
        if (needed > available)
            throw new UsageException(
                $"--batch: {options.Batch} needs about {needed / (1 << 20)} MiB of device memory for {config.Name}, {device.Name} has {available / (1 << 20)} MiB; use a smaller batch.");
    }

    /// <param name="foldsAfter">Folds of the run still to train after this one, for the time left.</param>
    private TrainingOutcome TrainFold(ComputeDevice device, ModelConfig config, ClipStore store,
        IReadOnlyList<string> classNames, int fold, int foldsAfter, ILogger foldLog)
    {
        var (train, validation) = store.Split(fold);
        if (train.Count == 0 || validation.Count == 0)
            throw new InvalidDataException(
                $"{options.DataDir}: fold {fold} leaves {train.Count} training and {validation.Count} validation clips; both must be non-empty.");

        var foldDir = FoldDir(options.OutDir, fold);
        Directory.CreateDirectory(foldDir);
        var seed = FoldSeed(options.Seed, fold);
        using var model = NetworkModel.Create(device, config, options.Batch, seed, options.Optimizer);
        var progress = TrainingCheckpoint.TryLoad(foldDir, model, fold, seed) ?? TrainingProgress.Start(fold, seed);
        _metrics.TruncateFold(fold, progress.Epoch);
        if (progress.Epoch >= options.Epochs)
        {
            foldLog.Information("Fold {Fold} already finished ({Epochs} epochs)", fold, progress.Epoch);
            return TrainingOutcome.Completed;
        }
        if (progress.Epoch == 0 && progress.Partial is null)
        {
            foldLog.Information("Fold {Fold}: {TrainClips} training clips, {ValidationClips} validation clips", fold, train.Count, validation.Count);
            var start = new FoldStartContext(fold, model, options.OutDir, foldDir, foldLog);
            foreach (var hook in hooks) hook.BeforeFirstEpoch(start);
        }
        else
            foldLog.Information("Fold {Fold}: {TrainClips} training clips, {ValidationClips} validation clips; resuming after epoch {Epoch} and {Batches} batches",
                fold, train.Count, validation.Count, progress.Epoch, progress.Partial?.Batches ?? 0);

        var schedule = Schedule(options);
        var augmentation = new TrainingAugmentation(options.BetweenClass, options.StrongAugment);
        var evaluator = new TestCropEvaluator(model, options.TestCrops);
        var info = new CheckpointInfo(config.Name, options.Subset, classNames, fold, 0, seed, 0, TrainingOptions: options.ToJson());

        for (var epoch = progress.Epoch + 1; epoch <= options.Epochs; epoch++)
        {
            if (stop.IsCancellationRequested) return Stop(foldLog, fold, progress.Epoch, 0);

            var learningRate = schedule.At(epoch);
            var done = progress.Partial ?? new PartialEpoch(0, 0, 0, 0, 0);
            var (lossSum, correct, samples, batches) = (done.LossSum, done.Correct, done.Samples, done.Batches);
            var clock = Stopwatch.StartNew();
            var stopped = false;
            _eta.StartEpoch(options.Epochs - epoch + 1 + foldsAfter * options.Epochs);
            using (var stream = new TrainingBatchStream(train, config.Classes, options.Batch, config.InputLength,
                       config.SampleRate, seed, epoch, augmentation))
            {
                var description = $"fold {fold} epoch {epoch}/{options.Epochs}";
                RunConsole.Phase(description, stream.BatchCount, line => foldLog.Information("{Progress}", line), advance =>
                {
                    // The stream is a pure function of (seed, epoch): skipping the batches a stopped run already
                    // trained on puts the resumed run exactly where the stopped one was.
                    foreach (var batch in stream.Skip(done.Batches))
                    {
                        if (stop.IsCancellationRequested)
                        {
                            stopped = true;
                            return;
                        }
                        var result = model.TrainStep(batch.Inputs.AsSpan(0, batch.Count * config.InputLength),
                            batch.Targets.AsSpan(0, batch.Count * config.Classes), batch.Count,
                            (float)learningRate, (float)options.Momentum, (float)options.WeightDecay);
                        // The loss comes back to the host every batch anyway: checking it costs nothing, and stopping
                        // here keeps the ruined weights out of every checkpoint.
                        if (!float.IsFinite(result.MeanLoss))
                            throw TrainingDivergedException.AtBatch(fold, epoch, batches + 1, stream.BatchCount, result.MeanLoss,
                                learningRate, KeptCheckpoint(progress, foldDir));
                        lossSum += (double)result.MeanLoss * batch.Count;
                        correct += result.Correct;
                        samples += batch.Count;
                        batches++;
                        var eta = _eta.Describe((double)batches / stream.BatchCount);
                        advance(batches, $"{description} loss {lossSum / samples:F3}{(eta is null ? "" : $", {eta}")}");
                    }
                }, alreadyDone: batches);
            }
            var trainSeconds = done.TrainSeconds + clock.Elapsed.TotalSeconds;

            if (stopped)
            {
                var partial = batches > 0 ? new PartialEpoch(batches, lossSum, correct, samples, trainSeconds) : null;
                // Mid-epoch weights have not been validated: their accuracy is recorded as NaN.
                TrainingCheckpoint.Save(foldDir, model, info with
                    {
                        Epoch = progress.Epoch, ValidationAccuracy = double.NaN,
                        BestEpoch = progress.BestEpoch > 0 ? progress.BestEpoch : null,
                        BestValidationAccuracy = progress.BestEpoch > 0 ? progress.BestAccuracy : null,
                    },
                    progress with { Step = model.Step, Partial = partial });
                return Stop(foldLog, fold, progress.Epoch, batches);
            }

            EvaluationResult evaluation = null!;
            RunConsole.Phase($"fold {fold} epoch {epoch} validation", validation.Count, line => foldLog.Information("{Progress}", line),
                report => evaluation = evaluator.Evaluate(validation, classNames, done => report(done, null)));
            if (!double.IsFinite(evaluation.Loss))
                throw TrainingDivergedException.AtValidation(fold, epoch, evaluation.Loss, learningRate, KeptCheckpoint(progress, foldDir));
            var row = new EpochMetrics
            {
                Fold = fold,
                Epoch = epoch,
                LearningRate = learningRate,
                TrainLoss = lossSum / samples,
                TrainAccuracy = (double)correct / samples,
                ValidationLoss = evaluation.Loss,
                ValidationAccuracy = evaluation.Accuracy,
                EpochSeconds = done.TrainSeconds + clock.Elapsed.TotalSeconds,
                SamplesPerSecond = samples / trainSeconds,
            };

            // Order matters for resuming: metrics and confusion first, the checkpoint last. A run killed in between
            // resumes from the previous checkpoint, drops this row and trains the epoch again to the same result.
            _metrics.Append(row);
            evaluation.Confusion.Write(Path.Combine(foldDir, "confusion.csv"));
            var isBest = evaluation.Accuracy > progress.BestAccuracy;
            var epochInfo = info with
            {
                Epoch = epoch, ValidationAccuracy = evaluation.Accuracy,
                BestEpoch = isBest ? epoch : progress.BestEpoch,
                BestValidationAccuracy = isBest ? evaluation.Accuracy : progress.BestAccuracy,
            };
            if (isBest) ModelCheckpoint.Save(Path.Combine(foldDir, TrainingCheckpoint.BestFile), model, epochInfo);
            progress = progress with
            {
                Epoch = epoch,
                Step = model.Step,
                BestAccuracy = isBest ? evaluation.Accuracy : progress.BestAccuracy,
                BestEpoch = isBest ? epoch : progress.BestEpoch,
                Partial = null,
            };
            TrainingCheckpoint.Save(foldDir, model, epochInfo, progress);

            foldLog.ForContext("Epoch", epoch).Information(
                "Fold {Fold} epoch {Epoch}/{Epochs}: lr {LearningRate:G3}, train loss {TrainLoss:F4} accuracy {TrainAccuracy:P1}, " +
                "validation loss {ValidationLoss:F4} accuracy {ValidationAccuracy:P1}{Best}, {EpochSeconds:F1} s, {SamplesPerSecond:F0} samples/s{RunLeft}",
                fold, epoch, options.Epochs, learningRate, row.TrainLoss, row.TrainAccuracy, row.ValidationLoss,
                row.ValidationAccuracy, isBest ? " (best)" : "", row.EpochSeconds, row.SamplesPerSecond,
                _eta.Describe(1) is { } left && (epoch < options.Epochs || foldsAfter > 0) ? $"; {left}" : "");

            var context = new EpochContext(fold, epoch, model, row, options.OutDir, foldDir, foldLog);
            foreach (var hook in hooks) hook.AfterEpoch(context);
            _eta.FinishEpoch();
        }
        return TrainingOutcome.Completed;
    }

    /// <summary>What a diverged fold leaves behind, for the error message.</summary>
    private static string KeptCheckpoint(TrainingProgress progress, string foldDir) =>
        progress.Epoch == 0 && progress.Partial is null
            ? "The fold had no checkpoint yet and none was written."
            : $"The last good checkpoint, {Path.Combine(foldDir, TrainingCheckpoint.WeightsFile)} after epoch {progress.Epoch}" +
              $"{(progress.Partial is { } partial ? $" and {partial.Batches} batches" : "")}, is kept unchanged.";

    private TrainingOutcome Stop(ILogger foldLog, int fold, int finishedEpochs, int batchesIntoNextEpoch)
    {
        // Say only what is on disk: a stop before the first epoch ends has no metrics yet, one before the first
        // batch not even a checkpoint.
        var hasCheckpoint = File.Exists(Path.Combine(FoldDir(options.OutDir, fold), TrainingCheckpoint.WeightsFile));
        var saved = (hasCheckpoint, File.Exists(_metrics.Path)) switch
        {
            (true, true) => "checkpoint and metrics are saved in",
            (true, false) => "the checkpoint is saved (no epoch has finished, so there are no metrics yet) in",
            (false, true) => "the metrics of earlier folds are saved in",
            _ => "nothing is saved yet (no batch had finished) in",
        };
        if (batchesIntoNextEpoch > 0)
            foldLog.Warning("Stopped in fold {Fold} during epoch {Epoch} after {Batches} of its batches; {Saved} {RunDir}",
                fold, finishedEpochs + 1, batchesIntoNextEpoch, saved, options.OutDir);
        else if (finishedEpochs > 0)
            foldLog.Warning("Stopped in fold {Fold} after epoch {Epoch}; {Saved} {RunDir}", fold, finishedEpochs, saved, options.OutDir);
        else
            foldLog.Warning("Stopped in fold {Fold} before its first batch; {Saved} {RunDir}", fold, saved, options.OutDir);
        return TrainingOutcome.Stopped;
    }

    /// <summary>summary.csv, confusion.csv (summed over finished folds) and learning-curves.png from the files on disk,
    /// so they include folds finished before a resume.</summary>
    private void WriteRunResults(IReadOnlyList<string> classNames)
    {
        var rows = _metrics.ReadAll();
        if (rows.Count == 0) return;
        var finished = RunSummary.FromMetrics(rows, options.Epochs);
        RunSummary.Write(Path.Combine(options.OutDir, RunSummary.FileName), finished);
        var confusion = new ConfusionMatrix(classNames);
        foreach (var fold in finished)
            confusion.Add(ConfusionMatrix.Read(Path.Combine(FoldDir(options.OutDir, fold.Fold), "confusion.csv")));
        confusion.Write(Path.Combine(options.OutDir, "confusion.csv"));
        LearningCurvePlot.Write(Path.Combine(options.OutDir, LearningCurvePlot.FileName), rows, options.Model);
    }
}

/// <summary>An option that cannot work, found after parsing (e.g. a batch too large for the device): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
