namespace EnvNet.Training;

/// <summary>
/// Step decay as in the EnvNet recipe (and PyTorch's MultiStepLR with gamma 0.1): the base rate is divided by 10
/// after each milestone, a milestone being a fraction of the epochs. Epochs count from 1, so with 600 epochs and
/// steps 0.5, 0.75 epochs 1-300 use 0.01, 301-450 use 0.001 and 451-600 use 0.0001.
/// </summary>
public sealed record LearningRateSchedule(double BaseRate, IReadOnlyList<double> Steps, int Epochs)
{
    public IEnumerable<int> Milestones => Steps.Select(f => (int)Math.Round(f * Epochs));

    public double At(int epoch) => BaseRate * Math.Pow(0.1, Milestones.Count(m => epoch > m));
}
