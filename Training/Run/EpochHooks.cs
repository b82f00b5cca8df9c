using EnvNet.Network;
using EnvNet.Training.Results;
using Serilog;

namespace EnvNet.Training.Run;

/// <summary>What a hook sees after an epoch: the model in its end-of-epoch state (after the checkpoint was written),
/// the epoch's metrics and where the run writes its files.</summary>
/// <param name="RunDir">The run folder (metrics.csv, run.json).</param>
/// <param name="FoldDir">The fold's folder inside it (fold-K/), where per-fold files such as checkpoints go.</param>
public sealed record EpochContext(
    int Fold, int Epoch, NetworkModel Model, EpochMetrics Metrics, string RunDir, string FoldDir, ILogger Logger);

/// <summary>What a hook sees before a fold's first epoch: the model with its initial weights (epoch 0).</summary>
public sealed record FoldStartContext(int Fold, NetworkModel Model, string RunDir, string FoldDir, ILogger Logger);

/// <summary>
/// Work done before a fold's first epoch and after every finished epoch, such as recording the learned filter bank's frequency response. Hooks run
/// in list order on the training thread; an exception stops the run. A hook must leave the model's weights and
/// <see cref="NetworkModel.Step"/> unchanged (eval-mode passes are fine). After a resume an epoch that was cut short
/// runs again, so a hook may see the same (fold, epoch) twice and should overwrite what it wrote for it.
/// </summary>
public interface IEpochHook
{
    /// <summary>Before a fold trains its first batch, on the initial weights. Not called when a fold resumes after
    /// an epoch or batches were trained.</summary>
    void BeforeFirstEpoch(FoldStartContext context);

    void AfterEpoch(EpochContext context);
}
