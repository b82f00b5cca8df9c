using System.Diagnostics;
using EnvNet.Network;
using EnvNet.Training.Run;
using Serilog;

namespace EnvNet.Training.FilterBank;

/// <summary>
/// <c>envnet train --freqresp-every N</c>: before a fold's first epoch (the initial, random bank, recorded as epoch
/// 0), after every N-th epoch and after its last, measures each front end of the model
/// (<see cref="ModelConfig.FrontEnds"/>, <see cref="FrequencyResponseProbe"/>), records it
/// (<see cref="FilterBankRecorder"/>; a model with several front ends gets files per front end) and logs how mel-like
/// it is and what the probe cost against the epoch. The animation is rewritten after the fold's last epoch and every
/// <see cref="AnimationEvery"/> recorded epochs, so a long run shows its progress without re-encoding the whole GIF
/// after every epoch.
/// </summary>
public sealed class FilterBankHook(int every, int epochs) : IEpochHook
{
    public const int AnimationEvery = 25;

    private FilterBankRecorder[]? _recorders;
    private ToneSweep? _sweep;

    public void BeforeFirstEpoch(FoldStartContext context) =>
        Record(context.Fold, 0, context.Model, context.RunDir, context.FoldDir, context.Logger, epochSeconds: null);

    public void AfterEpoch(EpochContext context)
    {
        if (context.Epoch % every != 0 && context.Epoch != epochs) return;
        Record(context.Fold, context.Epoch, context.Model, context.RunDir, context.FoldDir, context.Logger, context.Metrics.EpochSeconds);
    }

    private void Record(int fold, int epoch, NetworkModel model, string runDir, string foldDir, ILogger logger, double? epochSeconds)
    {
        var frontEnds = model.FrontEnds;
        _sweep ??= FrequencyResponseProbe.DefaultSweep(model.Config);
        _recorders ??= frontEnds.Select(f => new FilterBankRecorder(runDir, frontEnds.Count > 1 ? f.FrontEnd.Name : null)).ToArray();
        for (var i = 0; i < frontEnds.Count; i++)
        {
            var clock = Stopwatch.StartNew();
            var response = FrequencyResponseProbe.Measure(model, _sweep, i);
            var probeSeconds = clock.Elapsed.TotalSeconds;

            var recorder = _recorders[i];
            var summary = recorder.Record(fold, epoch, response, foldDir);
            if (epoch == epochs || recorder.RecordedEpochs(fold) % AnimationEvery == 0) recorder.WriteAnimation(fold, foldDir);
            var recordSeconds = clock.Elapsed.TotalSeconds - probeSeconds;

            var name = frontEnds[i].FrontEnd.Name;
            var cost = epochSeconds is { } seconds
                ? $"probe {probeSeconds:F2} s ({probeSeconds / seconds:P1} of the epoch's {seconds:F1} s)"
                : $"probe {probeSeconds:F2} s";
            logger.ForContext("Epoch", epoch).Information(
                "Filter bank {FrontEnd} {When}: mel correlation {MelCorrelation:F3} (initial {InitialMelCorrelation:F3}), " +
                "{MelRmsOctaves:F2} octaves RMS from mel, centres {LowestCentreHz:F0}-{HighestCentreHz:F0} Hz (median {MedianCentreHz:F0}), " +
                "{FlatFilters} flat; {ProbeCost}, files {RecordSeconds:F2} s; {Heatmap}",
                name, epoch == 0 ? "at the initial weights" : $"after epoch {epoch}", summary.MelCorrelation, summary.InitialMelCorrelation,
                summary.MelRmsOctaves, summary.LowestCentreHz, summary.HighestCentreHz, summary.MedianCentreHz, summary.FlatFilters,
                cost, recordSeconds, FilterBankRecorder.HeatmapPath(foldDir, epoch, frontEnds.Count > 1 ? name : null));
        }
    }
}
