using ScottPlot;

namespace EnvNet.Training.Results;

/// <summary>learning-curves.png: loss (left) and accuracy (right) per epoch, one colour per fold, training as a
/// solid line and validation (test-crop averaged) dashed. A fold with a single epoch has no line to draw, so its
/// point is a marker: filled for training, open for validation.</summary>
public static class LearningCurvePlot
{
    public static void Write(string path, IReadOnlyList<EpochMetrics> rows, string title)
    {
        // ScottPlot saves a multiplot only to a path: the temporary one, then renamed as every output is.
        var temporary = Checkpoints.AtomicFile.TemporaryPath(path);
        Build(rows, title).SavePng(temporary, 1400, 520);
        Checkpoints.AtomicFile.Commit(temporary, path);
    }

    public static Multiplot Build(IReadOnlyList<EpochMetrics> rows, string title)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var loss = multiplot.GetPlot(0);
        var accuracy = multiplot.GetPlot(1);
        var palette = new ScottPlot.Palettes.Category10();

        var folds = rows.GroupBy(r => r.Fold).OrderBy(g => g.Key).ToList();
        for (var i = 0; i < folds.Count; i++)
        {
            var fold = folds[i].OrderBy(r => r.Epoch).ToList();
            var color = palette.GetColor(i);
            var epochs = fold.Select(r => (double)r.Epoch).ToArray();
            AddLine(loss, epochs, fold.Select(r => r.TrainLoss), color, $"fold {folds[i].Key} train", validation: false);
            AddLine(loss, epochs, fold.Select(r => r.ValidationLoss), color, $"fold {folds[i].Key} validation", validation: true);
            AddLine(accuracy, epochs, fold.Select(r => r.TrainAccuracy), color, $"fold {folds[i].Key} train", validation: false);
            AddLine(accuracy, epochs, fold.Select(r => r.ValidationAccuracy), color, $"fold {folds[i].Key} validation", validation: true);
        }

        loss.Title($"{title}: loss");
        loss.XLabel("epoch");
        loss.YLabel("cross-entropy");
        accuracy.Title($"{title}: accuracy");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy");
        accuracy.Axes.SetLimitsY(0, 1);
        loss.ShowLegend(Alignment.UpperRight);
        accuracy.ShowLegend(Alignment.LowerRight);
        foreach (var plot in new[] { loss, accuracy })
        {
            plot.Legend.FontSize = 11;
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        }
        return multiplot;
    }

    private static void AddLine(Plot plot, double[] xs, IEnumerable<double> ys, Color color, string label, bool validation)
    {
        var line = plot.Add.ScatterLine(xs, ys.ToArray(), color);
        line.LegendText = label;
        line.LinePattern = validation ? LinePattern.Dashed : LinePattern.Solid;
        line.LineWidth = 2;
        if (xs.Length == 1)
        {
            line.MarkerSize = 10;
            line.MarkerShape = validation ? MarkerShape.OpenCircle : MarkerShape.FilledCircle;
        }
    }
}
