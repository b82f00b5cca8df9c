using System.Globalization;

namespace EnvNet.Network;

/// <summary>
/// How a model is trained by default: what <c>envnet train --data</c> uses for every option not given. The learning
/// rate is divided by 10 after each fraction of the epochs in <see cref="LearningRateSteps"/> (a schedule written as
/// epoch milestones is turned into fractions by <see cref="StepsAtEpochs"/>), and the first
/// <see cref="WarmupEpochs"/> epochs run at a tenth of it.
/// </summary>
/// <param name="DoubleEpochsWithBetweenClass">Whether <c>--bc</c> doubles <see cref="Epochs"/> (a mix is a harder
/// example; the EnvNet authors train twice as long).</param>
public sealed record TrainingRecipe(
    OptimizerKind Optimizer,
    int Epochs,
    double LearningRate,
    IReadOnlyList<double> LearningRateSteps,
    int WarmupEpochs,
    int Batch,
    double Momentum,
    double WeightDecay,
    int TestCrops,
    bool DoubleEpochsWithBetweenClass = true)
{
    /// <summary>Milestones given in epochs (PyTorch's MultiStepLR) as fractions of <paramref name="epochs"/>: the rate
    /// drops after epoch m, as <see cref="LearningRateSteps"/> drop it after epoch fraction × epochs.</summary>
    public static IReadOnlyList<double> StepsAtEpochs(int epochs, params int[] milestones) =>
        milestones.Select(m => (double)m / epochs).ToArray();

    /// <summary>The recipe of a run with or without between-class learning.</summary>
    public TrainingRecipe WithBetweenClass(bool betweenClass) =>
        betweenClass && DoubleEpochsWithBetweenClass ? this with { Epochs = 2 * Epochs } : this;

    /// <summary>One line, e.g. "SGD-Nesterov 0.9, lr 0.01 /10 after 50 %, 75 %, 600 epochs, batch 64, wd 0.0005, 10 crops".</summary>
    public override string ToString()
    {
        static string G(double v) => v.ToString("G12", CultureInfo.InvariantCulture);
        var optimizer = Optimizers.Of(Optimizer).Brief(Momentum);
        var steps = LearningRateSteps.Count == 0 ? ""
            : " /10 after " + string.Join(", ", LearningRateSteps.Select(s => G(100 * s) + " %"));
        var warmup = WarmupEpochs > 0 ? $", {WarmupEpochs} warm-up epochs at lr/10" : "";
        return $"{optimizer}, lr {G(LearningRate)}{steps}{warmup}, {Epochs} epochs, batch {Batch}, wd {G(WeightDecay)}, " +
               $"{TestCrops} test crop{(TestCrops == 1 ? "" : "s")}";
    }
}
