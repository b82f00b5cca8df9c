using System.Globalization;
using CsvHelper;

namespace EnvNet.Training.Results;

/// <summary>The result of one finished fold: accuracy after the last epoch and the best epoch's accuracy.</summary>
public sealed record FoldSummary(int Fold, int Epochs, double FinalAccuracy, double BestAccuracy, int BestEpoch);

/// <summary>
/// summary.csv: one row per finished fold (final and best validation accuracy), then a "mean" and a "std" row over
/// the folds. The standard deviation is the sample one (n - 1), empty for a single fold.
/// </summary>
public static class RunSummary
{

    /// <summary>Per-fold results of the folds in <paramref name="rows"/> that reached <paramref name="epochs"/>.</summary>
    public static IReadOnlyList<FoldSummary> FromMetrics(IEnumerable<EpochMetrics> rows, int epochs) =>
        rows.GroupBy(r => r.Fold)
            .Select(g => g.OrderBy(r => r.Epoch).ToList())
            .Where(g => g[^1].Epoch >= epochs)
            .Select(g =>
            {
                var best = g.Aggregate((a, b) => b.ValidationAccuracy > a.ValidationAccuracy ? b : a);
                return new FoldSummary(g[0].Fold, g[^1].Epoch, g[^1].ValidationAccuracy, best.ValidationAccuracy, best.Epoch);
            })
            .OrderBy(s => s.Fold)
            .ToList();

    public static (double Mean, double? Std) MeanAndStd(IReadOnlyList<double> values)
    {
        var mean = values.Count == 0 ? double.NaN : values.Average();
        double? std = values.Count < 2 ? null : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return (mean, std);
    }

    public static void Write(string path, IReadOnlyList<FoldSummary> folds) => Checkpoints.AtomicFile.Write(path, stream =>
    {
        using var csv = CsvWriter.Create(stream, MetricsFile.CsvOptions, leaveOpen: true);
        csv.WriteHeader(["fold", "epochs", "final_accuracy", "best_accuracy", "best_epoch"]);
        foreach (var f in folds)
        {
            csv.WriteField(f.Fold.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(f.Epochs, "");
            csv.WriteField(f.FinalAccuracy, "");
            csv.WriteField(f.BestAccuracy, "");
            csv.WriteField(f.BestEpoch, "");
            csv.EndRecord();
        }
        var final = MeanAndStd(folds.Select(f => f.FinalAccuracy).ToList());
        var best = MeanAndStd(folds.Select(f => f.BestAccuracy).ToList());
        WriteStatistic(csv, "mean", final.Mean, best.Mean);
        WriteStatistic(csv, "std", final.Std, best.Std);
    });

    private static void WriteStatistic(CsvWriter csv, string name, double? final, double? best)
    {
        csv.WriteField(name);
        csv.WriteField("");
        csv.WriteField(final, "");
        csv.WriteField(best, "");
        csv.WriteField("");
        csv.EndRecord();
    }
}
