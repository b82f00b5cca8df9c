using System.Diagnostics;
using EnvNet.Esc50Dataset;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Results;
using Serilog;

namespace EnvNet.Training.Run;

/// <summary>
/// One fold of a run: its model, the epochs still to train on the other folds, validation on this one after each
/// epoch, and the fold's checkpoints and metrics, resumed from where a stopped run left them.
/// <para>Everything random is a function of the seed: the data stream of (fold seed, epoch), dropout of
/// (fold seed, step), the initial weights of the fold seed. A checkpoint therefore restores a run exactly, and a
/// resumed run ends with the same numbers as one that was never stopped.</para>
/// </summary>
public sealed class FoldTrainer(
    TrainOptions options, RunFolder folder, MetricsFile metrics, RunEta runEta, IReadOnlyList<IEpochHook> hooks, CancellationToken stop)
{
    /// <summary>The seed of one fold's model and data stream, fixed across processes and machines.</summary>
    public static int FoldSeed(int seed, int fold) => unchecked(seed * 1_000_003 + fold);

    /// <param name="foldsAfter">Folds of the run still to train after this one, for the time left.</param>
    public TrainingOutcome Train(ComputeDevice device, ModelConfig config, ClipStore store,
        IReadOnlyList<string> classNames, int fold, int foldsAfter, ILogger foldLog)
    {
        var (train, validation) = store.Split(fold);
        if (train.Count == 0 || validation.Count == 0)
            throw new InvalidDataException(
                $"{options.DataDir}: fold {fold} leaves {train.Count} training and {validation.Count} validation clips; both must be non-empty.");

        var foldDir = folder.FoldDir(fold);
        Directory.CreateDirectory(foldDir);
        var seed = FoldSeed(options.Seed, fold);
        using var model = NetworkModel.Create(device, config, options.Batch, seed, options.Optimizer);
        var progress = TrainingCheckpoint.TryLoad(foldDir, model, fold, seed) ?? TrainingProgress.Start(fold, seed);
        metrics.TruncateFold(fold, progress.Epoch);
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

        var schedule = options.Schedule;
        var augmentation = new TrainingAugmentation(options.BetweenClass, options.StrongAugment);
        var evaluator = new TestCropEvaluator(model, options.TestCrops);
        var info = new CheckpointInfo(config.Name, options.ClassSetName, classNames, fold, 0, seed, 0, TrainingOptions: options.ToJson());

        for (var epoch = progress.Epoch + 1; epoch <= options.Epochs; epoch++)
        {
            if (stop.IsCancellationRequested) return Stop(foldLog, fold, progress.Epoch, 0);

            var learningRate = schedule.At(epoch);
            var done = progress.Partial ?? new PartialEpoch(0, 0, 0, 0, 0);
            var (lossSum, correct, samples, batches) = (done.LossSum, done.Correct, done.Samples, done.Batches);
            var clock = Stopwatch.StartNew();
            var stopped = false;
            runEta.StartEpoch(options.Epochs - epoch + 1 + foldsAfter * options.Epochs);
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
                        var eta = runEta.Describe((double)batches / stream.BatchCount);
                        advance(batches, $"{description} loss {lossSum / samples:F3}{(eta is null ? "" : $", {eta}")}");
                    }
                }, alreadyDone: batches);
            }
            var trainSeconds = done.TrainSeconds + clock.Elapsed.TotalSeconds;

            EvaluationResult evaluation = null!;
            if (!stopped)
            {
                try
                {
                    RunConsole.Phase($"fold {fold} epoch {epoch} validation", validation.Count, line => foldLog.Information("{Progress}", line),
                        report => evaluation = evaluator.Evaluate(validation, classNames, done => report(done, null), stop));
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Saved as an epoch whose batches are all done: the resumed run validates it and goes on.
                    stopped = true;
                }
            }
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
            metrics.Append(row);
            evaluation.Confusion.Write(folder.FoldConfusion(fold));
            var isBest = evaluation.Accuracy > progress.BestAccuracy;
            var epochInfo = info with
            {
                Epoch = epoch, ValidationAccuracy = evaluation.Accuracy,
                BestEpoch = isBest ? epoch : progress.BestEpoch,
                BestValidationAccuracy = isBest ? evaluation.Accuracy : progress.BestAccuracy,
            };
            if (isBest) ModelCheckpoint.Save(Path.Combine(foldDir, RunFolder.BestFileName), model, epochInfo);
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
                runEta.Describe(1) is { } left && (epoch < options.Epochs || foldsAfter > 0) ? $"; {left}" : "");

            var context = new EpochContext(fold, epoch, model, row, options.OutDir, foldDir, foldLog);
            foreach (var hook in hooks) hook.AfterEpoch(context);
            runEta.FinishEpoch();
        }
        return TrainingOutcome.Completed;
    }

    /// <summary>What a diverged fold leaves behind, for the error message.</summary>
    private static string KeptCheckpoint(TrainingProgress progress, string foldDir) =>
        progress.Epoch == 0 && progress.Partial is null
            ? "The fold had no checkpoint yet and none was written."
            : $"The last good checkpoint, {Path.Combine(foldDir, RunFolder.WeightsFileName)} after epoch {progress.Epoch}" +
              $"{(progress.Partial is { } partial ? $" and {partial.Batches} batches" : "")}, is kept unchanged.";

    private TrainingOutcome Stop(ILogger foldLog, int fold, int finishedEpochs, int batchesIntoNextEpoch)
    {
        // Say only what is on disk: a stop before the first epoch ends has no metrics yet, one before the first
        // batch not even a checkpoint.
        var hasCheckpoint = File.Exists(folder.FoldWeights(fold));
        var saved = (hasCheckpoint, File.Exists(metrics.Path)) switch
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
}
