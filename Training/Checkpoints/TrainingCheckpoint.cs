using System.Globalization;
using EnvNet.Network;
using EnvNet.Training.Run;

namespace EnvNet.Training.Checkpoints;

/// <summary>Training progress inside an epoch, kept when a run is stopped between two batches.</summary>
public sealed record PartialEpoch(int Batches, double LossSum, long Correct, long Samples, double TrainSeconds);

/// <summary>Where a fold's training stands: <see cref="Epoch"/> epochs finished, <see cref="Step"/> optimiser
/// steps taken, the best validation accuracy so far, and, after a stop, the part of epoch Epoch+1 already done.</summary>
public sealed record TrainingProgress(int Fold, int Epoch, ulong Step, int Seed, double BestAccuracy, int BestEpoch, PartialEpoch? Partial)
{
    public static TrainingProgress Start(int fold, int seed) => new(fold, 0, 0, seed, double.NegativeInfinity, 0, null);
}

/// <summary>
/// The resumable checkpoint of a fold: <c>last.safetensors</c> (weights, loadable by PyTorch, see
/// <see cref="ModelCheckpoint"/>) and beside it <c>last.state.safetensors</c> with the optimiser state (SGD momentum buffers, Adam moments) and,
/// as metadata, the optimiser step, fold, epoch, seed, best accuracy and the checksum of the weights file it belongs
/// to. The data stream is a function of (seed, epoch) and dropout of (seed, step), so these restore a run exactly.
/// <para>Both files are written to temporary files first and then renamed weights-first; a run killed between the
/// two renames leaves the new state in its temporary file, which <see cref="TryLoad"/> recognises by the weights
/// checksum and commits.</para>
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>JSON header, BatchNorm running statistics and the counters: far less than this for every model.</summary>
    private const long FileOverheadBytes = 1 << 20;
    /// <summary>A margin for the result files beside the checkpoints: metrics, confusion matrices, plots, the log.</summary>
    private const long ResultFilesBytes = 64L << 20;

    /// <summary>
    /// The most disk space a run's files take: for each fold last, last.state and best (4 bytes per parameter each),
    /// the temporary copies of last and last.state while one fold's checkpoint is rewritten, and the result files.
    /// </summary>
    public static long EstimateRunBytes(ModelConfig config, int folds) =>
        (3L * folds + 2) * (sizeof(float) * NetworkModel.CountParameters(config) + FileOverheadBytes) + ResultFilesBytes;

    public static void Save(string foldDir, NetworkModel model, CheckpointInfo info, TrainingProgress progress)
    {
        var weights = ModelCheckpoint.StateTensors(model);
        var weightsChecksum = SafeTensors.Checksum(weights);
        var optimizerState = ModelCheckpoint.ToSafeTensors(model.OptimizerState);

        var weightsPath = Path.Combine(foldDir, RunFolder.WeightsFileName);
        var statePath = Path.Combine(foldDir, RunFolder.StateFileName);
        var weightsTemporary = AtomicFile.WriteTemporary(weightsPath,
            s => SafeTensors.Write(s, weights, ModelCheckpoint.Metadata(info, model.Config)));
        var stateTemporary = AtomicFile.WriteTemporary(statePath,
            s => SafeTensors.Write(s, optimizerState, StateMetadata(model.Config.Name, progress, weightsChecksum)));
        AtomicFile.Commit(weightsTemporary, weightsPath);
        AtomicFile.Commit(stateTemporary, statePath);
    }

    /// <summary>Restores weights, BatchNorm buffers, optimiser state and step into <paramref name="model"/> from the fold's
    /// last checkpoint; null when the fold has none yet. Throws <see cref="CheckpointException"/> when the files are
    /// damaged or belong to another model, fold or seed.</summary>
    public static TrainingProgress? TryLoad(string foldDir, NetworkModel model, int fold, int seed)
    {
        var weightsPath = Path.Combine(foldDir, RunFolder.WeightsFileName);
        var statePath = Path.Combine(foldDir, RunFolder.StateFileName);
        if (!File.Exists(weightsPath)) return null;

        var weights = SafeTensors.ReadFile(weightsPath);
        var weightsChecksum = weights.Metadata[SafeTensors.ChecksumKey];
        // The weights first: a file of another model or shape is named as such, not as a mismatched pair.
        ModelCheckpoint.Load(weights, weightsPath, model);
        var state = File.Exists(statePath) ? SafeTensors.ReadFile(statePath) : null;
        if (state is null || state.RequireMetadata("weights_sha256", statePath) != weightsChecksum)
            state = CommitPendingState(statePath, weightsChecksum)
                ?? throw new CheckpointException(
                    $"{statePath} does not belong to {weightsPath} (its weights checksum differs or it is missing); " +
                    "the checkpoint pair is inconsistent. Delete the fold folder to restart that fold.");

        var progress = ParseProgress(state, statePath);
        if (progress.Fold != fold || progress.Seed != seed)
            throw new CheckpointException(
                $"{statePath}: written for fold {progress.Fold} with seed {progress.Seed}, this run trains fold {fold} with seed {seed}.");

        var buffers = state.Tensors.ToDictionary(t => t.Name);
        foreach (var target in model.OptimizerState)
        {
            if (!buffers.TryGetValue(target.Name, out var tensor))
                throw new CheckpointException($"{statePath}: no optimizer state '{target.Name}'.");
            if (!tensor.Shape.SequenceEqual(target.Shape))
                throw new CheckpointException(
                    $"{statePath}: optimizer state '{target.Name}' has shape {SafeTensor.FormatShape(tensor.Shape)}, expected {SafeTensor.FormatShape(target.Shape)}.");
            ModelCheckpoint.CopyInto(target, tensor, statePath);
        }
        model.Step = progress.Step;
        return progress;
    }

    private static SafeTensorsContent? CommitPendingState(string statePath, string weightsChecksum)
    {
        var pending = AtomicFile.TemporaryPath(statePath);
        if (!File.Exists(pending)) return null;
        try
        {
            var state = SafeTensors.ReadFile(pending);
            if (state.Metadata.GetValueOrDefault("weights_sha256") != weightsChecksum) return null;
            AtomicFile.Commit(pending, statePath);
            return state;
        }
        catch (CheckpointException)
        {
            return null; // a half-written temporary file: the interruption came before the weights were renamed
        }
    }

    private static Dictionary<string, string> StateMetadata(string modelName, TrainingProgress p, string weightsChecksum)
    {
        var metadata = new Dictionary<string, string>
        {
            ["model"] = modelName,
            ["fold"] = Invariant(p.Fold),
            ["epoch"] = Invariant(p.Epoch),
            ["step"] = p.Step.ToString(CultureInfo.InvariantCulture),
            ["seed"] = Invariant(p.Seed),
            ["best_accuracy"] = Invariant(p.BestAccuracy),
            ["best_epoch"] = Invariant(p.BestEpoch),
            ["weights_sha256"] = weightsChecksum,
        };
        if (p.Partial is { } partial)
        {
            metadata["partial_batches"] = Invariant(partial.Batches);
            metadata["partial_loss_sum"] = Invariant(partial.LossSum);
            metadata["partial_correct"] = partial.Correct.ToString(CultureInfo.InvariantCulture);
            metadata["partial_samples"] = partial.Samples.ToString(CultureInfo.InvariantCulture);
            metadata["partial_train_seconds"] = Invariant(partial.TrainSeconds);
        }
        return metadata;
    }

    private static TrainingProgress ParseProgress(SafeTensorsContent state, string path)
    {
        string Get(string key) => state.RequireMetadata(key, path);
        T Parse<T>(string key) where T : IParsable<T> => T.TryParse(Get(key), CultureInfo.InvariantCulture, out var v)
            ? v : throw new CheckpointException($"{path}: metadata '{key}' = '{Get(key)}' is not a valid {typeof(T).Name}.");
        var partial = state.Metadata.ContainsKey("partial_batches")
            ? new PartialEpoch(Parse<int>("partial_batches"), Parse<double>("partial_loss_sum"), Parse<long>("partial_correct"),
                Parse<long>("partial_samples"), Parse<double>("partial_train_seconds"))
            : null;
        return new TrainingProgress(Parse<int>("fold"), Parse<int>("epoch"), Parse<ulong>("step"), Parse<int>("seed"),
            Parse<double>("best_accuracy"), Parse<int>("best_epoch"), partial);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
    private static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
