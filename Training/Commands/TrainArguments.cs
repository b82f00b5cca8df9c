namespace EnvNet.Training.Commands;

/// <summary>The training options as given on the command line: null where the option was not given.</summary>
public sealed record TrainArguments
{
    public string? Data { get; init; }
    public string? Dataset { get; init; }
    public int? FoldCount { get; init; }
    public string? Subset { get; init; }
    public string? Folds { get; init; }
    public int? Fold { get; init; }
    public string? Model { get; init; }
    public int? Epochs { get; init; }
    public int? Batch { get; init; }
    public double? LearningRate { get; init; }
    public string? LearningRateSteps { get; init; }
    public int? WarmupEpochs { get; init; }
    public double? Momentum { get; init; }
    public double? WeightDecay { get; init; }
    public int? TestCrops { get; init; }
    public int? FreqRespEvery { get; init; }
    public string? Accelerator { get; init; }
    public int? Seed { get; init; }
    public string? Out { get; init; }
    public string? Cache { get; init; }
    public bool Resume { get; init; }
    public bool SkipBad { get; init; }
    public bool BetweenClass { get; init; }
    public bool StrongAugment { get; init; }
}
