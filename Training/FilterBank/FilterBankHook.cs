using System.Diagnostics;

namespace EnvNet.Training.FilterBank;

/// <summary>
/// <c>envnet train --freqresp-every N</c>: after every N-th epoch of a fold, and after its last, measures the learned
/// filter bank (<see cref="FrequencyResponseProbe"/>), records it (<see cref="FilterBankRecorder"/>) and logs how
/// mel-like it is and what the probe cost against the epoch. The animation is rewritten after the fold's last epoch
/// and every <see cref="AnimationEvery"/> recorded epochs, so a long run shows its progress without re-encoding the
/// whole GIF after every epoch.
/// </summary>
public sealed class FilterBankHook(int every, int epochs) : IEpochHook
{
    public const int AnimationEvery = 25;

    private FilterBankRecorder? _recorder;
    private ToneSweep? _sweep;

    public void AfterEpoch(EpochContext context)
    {
        var last = context.Epoch == epochs;
        if (context.Epoch % every != 0 && !last) return;

        var clock = Stopwatch.StartNew();
        _sweep ??= FrequencyResponseProbe.DefaultSweep(context.Model.Config);
        var response = FrequencyResponseProbe.Measure(context.Model, _sweep);
        var probeSeconds = clock.Elapsed.TotalSeconds;

        _recorder ??= new FilterBankRecorder(context.RunDir);
        var summary = _recorder.Record(context.Fold, context.Epoch, response, context.FoldDir);
        if (last || _recorder.RecordedEpochs(context.Fold) % AnimationEvery == 0)
            _recorder.WriteAnimation(context.Fold, context.FoldDir);
        var recordSeconds = clock.Elapsed.TotalSeconds - probeSeconds;

        context.Logger.ForContext("Epoch", context.Epoch).Information(
            "Filter bank after epoch {Epoch}: mel correlation {MelCorrelation:F3}, {MelRmsOctaves:F2} octaves RMS from mel, " +
            "centres {LowestCentreHz:F0}-{HighestCentreHz:F0} Hz (median {MedianCentreHz:F0}), {FlatFilters} flat; " +
            "probe {ProbeSeconds:F2} s ({ProbeShare:P1} of the epoch's {EpochSeconds:F1} s), files {RecordSeconds:F2} s; {Heatmap}",
            context.Epoch, summary.MelCorrelation, summary.MelRmsOctaves, summary.LowestCentreHz, summary.HighestCentreHz,
            summary.MedianCentreHz, summary.FlatFilters, probeSeconds, probeSeconds / context.Metrics.EpochSeconds,
            context.Metrics.EpochSeconds, recordSeconds, FilterBankRecorder.HeatmapPath(context.FoldDir, context.Epoch));
    }
}
