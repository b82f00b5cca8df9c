using EnvNet.Training.Commands;
using EnvNet.Training.Run;

namespace EnvNet.Training.Results;

/// <summary>
/// Merges run folders whose folds were trained as separate jobs (one fold per machine, array job or pod) into
/// one result: metrics.csv of all folds, summary.csv, confusion.csv summed over the finished folds and
/// learning-curves.png. The runs must share model, subset and epochs, each fold may come from one run only, and each
/// epoch of a fold may have one row. Every file is written whole under a temporary name and renamed.
/// </summary>
public static class RunReport
{
    public sealed record Merged(IReadOnlyList<FoldSummary> Folds, IReadOnlyList<string> Warnings);

    public static Merged Write(IReadOnlyList<string> runDirs, string outDir)
    {
        var runs = runDirs.Select(dir =>
        {
            var folder = new RunFolder(dir);
            return (Dir: dir, Options: TrainOptions.FromJson(File.ReadAllText(folder.RunFile), folder.RunFile), Rows: MetricsFile.Read(folder.Metrics));
        }).ToList();

        var first = runs[0].Options;
        foreach (var run in runs.Skip(1))
        {
            var o = run.Options;
            if (o.Model != first.Model || o.ClassSetName != first.ClassSetName || o.FoldCount != first.FoldCount || o.Epochs != first.Epochs)
                throw new InvalidDataException(
                    $"{run.Dir} trained {o.Model}/{o.ClassSetName} ({o.FoldCount} folds) for {o.Epochs} epochs, " +
                    $"{runs[0].Dir} {first.Model}/{first.ClassSetName} ({first.FoldCount} folds) for {first.Epochs}; " +
                    "only runs of the same recipe can be merged.");
        }

        foreach (var run in runs)
            if (run.Rows.GroupBy(r => (r.Fold, r.Epoch)).FirstOrDefault(g => g.Count() > 1) is { } repeated)
                throw new InvalidDataException(
                    $"{new RunFolder(run.Dir).Metrics}: fold {repeated.Key.Fold} epoch {repeated.Key.Epoch} has {repeated.Count()} rows; expected one " +
                    "(two processes wrote into this run at once?); it cannot be merged.");

        var foldOwner = new Dictionary<int, string>();
        foreach (var run in runs)
            foreach (var fold in run.Rows.Select(r => r.Fold).Distinct())
                if (!foldOwner.TryAdd(fold, run.Dir))
                    throw new InvalidDataException($"Fold {fold} appears in both {foldOwner[fold]} and {run.Dir}; give each fold once.");

        var rows = runs.SelectMany(r => r.Rows).OrderBy(r => r.Fold).ThenBy(r => r.Epoch).ToList();
        var finished = RunSummary.FromMetrics(rows, first.Epochs);
        var warnings = foldOwner.Keys.Except(finished.Select(f => f.Fold)).Order()
            .Select(f => $"fold {f} in {foldOwner[f]} has not finished its {first.Epochs} epochs; it is left out of {RunFolder.SummaryFileName} and {RunFolder.ConfusionFileName}.")
            .ToList();

        Directory.CreateDirectory(outDir);
        var report = new RunFolder(outDir);
        MetricsFile.Write(report.Metrics, rows);
        RunSummary.Write(report.Summary, finished);

        ConfusionMatrix? confusion = null;
        foreach (var fold in finished)
        {
            var foldConfusion = ConfusionMatrix.Read(new RunFolder(foldOwner[fold.Fold]).FoldConfusion(fold.Fold));
            if (confusion is null) confusion = foldConfusion;
            else confusion.Add(foldConfusion);
        }
        confusion?.Write(report.Confusion);
        if (rows.Count > 0) LearningCurvePlot.Write(report.LearningCurves, rows, first.Model);
        return new Merged(finished, warnings);
    }
}
