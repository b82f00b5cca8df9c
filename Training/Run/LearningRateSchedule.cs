using System.Globalization;

namespace EnvNet.Training.Run;

/// <summary>
/// Step decay with warm-up as in the EnvNet authors' code: the base rate is divided by 10 once for every step
/// fraction s that the epochs already finished have reached (finished &gt;= s x epochs), and the first
/// <see cref="WarmupEpochs"/> epochs run at a tenth of the base rate whatever the steps say. With 600 epochs and
/// steps 0.5, 0.75, epochs 1-300 use 0.01, 301-450 use 0.001 and 451-600 use 0.0001; EnvNet-v2's 0.1 with 10 warm-up
/// epochs starts at 0.01 for epochs 1-10. Counting finished epochs means a run of one epoch trains at the base
/// rate: no step is reached before any epoch has finished.
/// </summary>
public sealed record LearningRateSchedule(double BaseRate, IReadOnlyList<double> Steps, int Epochs, int WarmupEpochs = 0)
{
    /// <summary>The rate of epoch <paramref name="epoch"/>, counted from 1.</summary>
    public double At(int epoch) =>
        BaseRate * Math.Pow(0.1, epoch <= WarmupEpochs ? 1 : Steps.Count(s => epoch - 1 >= FinishedEpochsAt(s)));

    /// <summary>The finished epochs after which step fraction <paramref name="step"/> drops the rate: the first whole
    /// number of epochs &gt;= step x epochs. A recipe written as epoch milestones (PyTorch's MultiStepLR) arrives as
    /// fractions m / epochs (<see cref="Network.TrainingRecipe.StepsAtEpochs"/>), whose product with the epochs may be
    /// off from m by a rounding error either way; the tolerance puts the drop after exactly m finished epochs.</summary>
    public int FinishedEpochsAt(double step) => (int)Math.Ceiling(step * Epochs - 1e-9);

    /// <summary>Runs of consecutive epochs that share a rate, in order.</summary>
    public IReadOnlyList<(int FirstEpoch, int LastEpoch, double Rate)> Phases()
    {
        var phases = new List<(int FirstEpoch, int LastEpoch, double Rate)>();
        for (var epoch = 1; epoch <= Epochs; epoch++)
        {
            var rate = At(epoch);
            if (phases.Count > 0 && phases[^1].Rate == rate) phases[^1] = phases[^1] with { LastEpoch = epoch };
            else phases.Add((epoch, epoch, rate));
        }
        return phases;
    }

    /// <summary>For the log: the rate of every epoch and the recipe it comes from (12 significant digits, so
    /// 100 x 0.3 prints as 30), e.g. "epochs 1-10 at 0.01 (warm-up), 11-300 at 0.1, 301-600 at 0.01, 601-900 at
    /// 0.001, 901-1000 at 0.0001 (0.1 divided by 10 after 30 %, 60 %, 90 % of 1000 epochs)".</summary>
    public string Describe()
    {
        var phases = Phases().Select((p, i) =>
            $"{(i == 0 ? Wording.Epochs(p.FirstEpoch, p.LastEpoch) : EpochRange(p.FirstEpoch, p.LastEpoch))} at {Number(p.Rate)}" +
            (p.LastEpoch <= WarmupEpochs ? " (warm-up)" : ""));
        var recipe = Steps.Count == 0 ? "constant"
            : $"{Number(BaseRate)} divided by 10 after {string.Join(", ", Steps.Select(s => Number(100 * s) + " %"))} of {Wording.Count(Epochs, "epoch")}";
        return $"{string.Join(", ", phases)} ({recipe})";
    }

    private static string EpochRange(int first, int last) => first == last ? $"{first}" : $"{first}-{last}";

    private static string Number(double value) => value.ToString("G12", CultureInfo.InvariantCulture);
}
