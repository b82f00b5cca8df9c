using System.Globalization;

namespace EnvNet.Training;

/// <summary>
/// Step decay with warm-up as in the EnvNet authors' code: the base rate is divided by 10 once for every step
/// fraction s with epoch &gt; s x epochs (epochs count from 1), and the first <see cref="WarmupEpochs"/> epochs run at a
/// tenth of the base rate whatever the steps say. With 600 epochs and steps 0.5, 0.75, epochs 1-300 use 0.01,
/// 301-450 use 0.001 and 451-600 use 0.0001; EnvNet-v2's 0.1 with 10 warm-up epochs starts at 0.01 for epochs 1-10.
/// </summary>
public sealed record LearningRateSchedule(double BaseRate, IReadOnlyList<double> Steps, int Epochs, int WarmupEpochs = 0)
{
    public double At(int epoch) =>
        BaseRate * Math.Pow(0.1, epoch <= WarmupEpochs ? 1 : Steps.Count(s => epoch > s * Epochs));

    /// <summary>For the log (12 significant digits, so 100 x 0.3 prints as 30), e.g. "0.1 (epochs 1-10 at 0.01), divided by 10 after 30 %, 60 %, 90 % of 1000 epochs".</summary>
    public string Describe()
    {
        var rate = BaseRate.ToString("G12", CultureInfo.InvariantCulture);
        var warmup = WarmupEpochs > 0
            ? $" (epochs 1-{WarmupEpochs} at {(BaseRate / 10).ToString("G12", CultureInfo.InvariantCulture)})" : "";
        var steps = Steps.Count == 0 ? ", constant"
            : $", divided by 10 after {string.Join(", ", Steps.Select(s => (100 * s).ToString("G12", CultureInfo.InvariantCulture) + " %"))} of {Epochs} epochs";
        return rate + warmup + steps;
    }
}
