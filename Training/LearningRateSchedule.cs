namespace EnvNet.Training;

/// <summary>
/// Step decay as in the EnvNet authors' code: the base rate is divided by 10 once for every step fraction s with
/// epoch &gt; s x epochs (epochs count from 1). With 600 epochs and steps 0.5, 0.75, epochs 1-300 use 0.01,
/// 301-450 use 0.001 and 451-600 use 0.0001.
/// </summary>
public sealed record LearningRateSchedule(double BaseRate, IReadOnlyList<double> Steps, int Epochs)
{
    public double At(int epoch) => BaseRate * Math.Pow(0.1, Steps.Count(s => epoch > s * Epochs));
}
