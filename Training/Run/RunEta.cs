using System.Diagnostics;

namespace EnvNet.Training.Run;

/// <summary>
/// The time left for the whole run (every fold and epoch still to train), from the pace of the epochs this process
/// has trained, validation included. Until one has finished, the current epoch's pace stands in for it.
/// </summary>
public sealed class RunEta
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _finishedEpochSeconds;
    private int _finishedEpochs;
    private int _epochsLeft;
    private TimeSpan _epochStart;

    /// <param name="epochsLeft">Epochs still to train in the run, this one included.</param>
    public void StartEpoch(int epochsLeft)
    {
        _epochsLeft = epochsLeft;
        _epochStart = _clock.Elapsed;
    }

    public void FinishEpoch()
    {
        _finishedEpochSeconds += (_clock.Elapsed - _epochStart).TotalSeconds;
        _finishedEpochs++;
    }

    /// <summary>"run 1:02:03 left", or null while there is no pace to go by.</summary>
    /// <param name="epochFraction">How much of the current epoch's training is done, 0 to 1.</param>
    public string? Describe(double epochFraction)
    {
        var elapsedInEpoch = (_clock.Elapsed - _epochStart).TotalSeconds;
        double? secondsPerEpoch = _finishedEpochs > 0 ? _finishedEpochSeconds / _finishedEpochs
            : epochFraction >= 0.05 ? elapsedInEpoch / epochFraction : null;
        if (secondsPerEpoch is not { } pace) return null;
        var left = Math.Max(0, pace * _epochsLeft - elapsedInEpoch);
        return $"run {Format(TimeSpan.FromSeconds(left))} left";
    }

    private static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}:{span:mm\\:ss}" : span.ToString(@"m\:ss");
}
