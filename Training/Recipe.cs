namespace EnvNet.Training;

/// <summary>
/// The authors' training recipe for a model and data set: what <c>envnet train --data</c> uses for every schedule
/// option not given (explicit options win; the embedded default keeps its own). As in the authors' code for
/// EnvNet (Tokozume &amp; Harada, ICASSP 2017) and EnvNet-v2 with between-class learning (Tokozume, Ushiku &amp;
/// Harada, ICLR 2018):
/// <list type="table">
/// <item>EnvNet on ESC-50: 600 epochs, lr 0.01, divided by 10 after 50 % and 75 % of the epochs, no warm-up.</item>
/// <item>EnvNet-v2 on ESC-50: 1000 epochs, lr 0.1, divided by 10 after 30 %, 60 % and 90 %, the first 10 epochs at a
/// tenth of it (warm-up).</item>
/// <item>Either model on ESC-10: 600 epochs, lr 0.01, divided by 10 after 50 % and 75 %, no warm-up.</item>
/// <item>With between-class learning the number of epochs doubles (a mix is a harder example; the authors train
/// twice as long).</item>
/// </list>
/// Batch, momentum, weight decay and test crops are the same for every row. The tiny models take their family's row.
/// </summary>
public sealed record Recipe(int Epochs, double LearningRate, IReadOnlyList<double> LearningRateSteps, int WarmupEpochs)
{
    public const int Batch = 64;
    public const double Momentum = 0.9;
    public const double WeightDecay = 5e-4;
    public const int TestCrops = 10;

    private static readonly Recipe EnvNet = new(600, 0.01, [0.5, 0.75], 0);
    private static readonly Recipe EnvNetV2 = new(1000, 0.1, [0.3, 0.6, 0.9], 10);

    /// <param name="model">One of <see cref="Network.EnvNetConfig.ModelNames"/>: "envnet-v2" and "envnet-v2-tiny" take
    /// EnvNet-v2's row, the others EnvNet's.</param>
    /// <param name="subset">"esc50" or "esc10".</param>
    /// <param name="betweenClass">Whether the run trains on between-class mixes (<c>--bc</c>).</param>
    public static Recipe For(string model, string subset, bool betweenClass)
    {
        var row = subset == "esc10" ? EnvNet
            : model.StartsWith("envnet-v2", StringComparison.Ordinal) ? EnvNetV2
            : EnvNet;
        return betweenClass ? row with { Epochs = 2 * row.Epochs } : row;
    }
}
