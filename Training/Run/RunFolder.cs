namespace EnvNet.Training.Run;

/// <summary>
/// The layout of a run folder, named once: run.json (the options, which --resume reads back), metrics.csv (a row per
/// epoch and fold), over the finished folds summary.csv, confusion.csv and learning-curves.png, and per fold
/// fold-K/ with last.safetensors (weights), last.state.safetensors (optimiser state and progress), best.safetensors
/// (the weights of the best validation accuracy) and confusion.csv; for a dataset whose folds the program made,
/// folds.csv, the split. <c>envnet report</c> writes the run-level files
/// of this layout into its own folder.
/// </summary>
public sealed record RunFolder(string Dir)
{
    public const string RunFileName = "run.json";
    public const string MetricsFileName = "metrics.csv";
    public const string SummaryFileName = "summary.csv";
    public const string ConfusionFileName = "confusion.csv";
    public const string LearningCurvesFileName = "learning-curves.png";
    public const string WeightsFileName = "last.safetensors";
    public const string StateFileName = "last.state.safetensors";
    public const string BestFileName = "best.safetensors";

    public string RunFile => Path.Combine(Dir, RunFileName);
    public string Metrics => Path.Combine(Dir, MetricsFileName);
    public string Summary => Path.Combine(Dir, SummaryFileName);
    public string Confusion => Path.Combine(Dir, ConfusionFileName);
    public string LearningCurves => Path.Combine(Dir, LearningCurvesFileName);

    /// <summary>The folds the run made for a dataset without its own (<see cref="Esc50Dataset.Datasets.FoldSplit"/>).</summary>
    public string FoldSplit => Path.Combine(Dir, Esc50Dataset.Datasets.FoldSplit.FileName);

    public string FoldDir(int fold) => Path.Combine(Dir, $"fold-{fold}");
    public string FoldConfusion(int fold) => Path.Combine(FoldDir(fold), ConfusionFileName);
    public string FoldWeights(int fold) => Path.Combine(FoldDir(fold), WeightsFileName);
}
