using EnvNet.Training.Run;
using EnvNet.Training.Results;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EnvNet.Tests;

[TestClass]
public sealed class TrainingResultsTests
{
    private static EpochMetrics Row(int fold, int epoch, double accuracy) => new()
    {
        Fold = fold, Epoch = epoch, LearningRate = 0.01, TrainLoss = 2.0 / epoch, TrainAccuracy = accuracy + 0.1,
        ValidationLoss = 2.5 / epoch, ValidationAccuracy = accuracy, EpochSeconds = 1.5, SamplesPerSecond = 100,
    };

    [TestMethod]
    [DataRow(1, 0.01)]
    [DataRow(300, 0.01)]
    [DataRow(301, 0.001)]
    [DataRow(450, 0.001)]
    [DataRow(451, 0.0001)]
    [DataRow(600, 0.0001)]
    public void LearningRateIsDividedBy10AfterHalfAndThreeQuartersOf600Epochs(int epoch, double expected)
    {
        var schedule = new LearningRateSchedule(0.01, [0.5, 0.75], 600);
        Assert.AreEqual(expected, schedule.At(epoch), 1e-15);
    }

    [TestMethod]
    public void LearningRateStepsOnceTheFinishedEpochsReachTheFraction()
    {
        var schedule = new LearningRateSchedule(1, [0.5, 0.75], 5);
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 0.1, 0.01 }, Enumerable.Range(1, 5).Select(e => Math.Round(schedule.At(e), 12)).ToArray(),
            "milestones 2.5 and 3.75 epochs: epoch 4 is the first after 2.5 finished epochs, epoch 5 the first after 3.75");
    }

    [TestMethod]
    public void LearningCurvesMarkTheSinglePointOfAOneEpochRun()
    {
        var oneEpoch = LearningCurvePlot.Build([Row(1, 1, 0.3)], "tiny");
        var curves = oneEpoch.Subplots.GetPlots().SelectMany(p => p.GetPlottables().OfType<ScottPlot.Plottables.Scatter>()).ToList();
        Assert.HasCount(4, curves, "train and validation, loss and accuracy");
        Assert.IsTrue(curves.All(c => c.MarkerSize > 0), "a single point has no line to show it");

        var threeEpochs = LearningCurvePlot.Build([Row(1, 1, 0.3), Row(1, 2, 0.4), Row(1, 3, 0.5)], "tiny");
        Assert.IsTrue(threeEpochs.Subplots.GetPlots().SelectMany(p => p.GetPlottables().OfType<ScottPlot.Plottables.Scatter>())
            .All(c => c.MarkerSize == 0 && c.LineWidth > 0), "longer runs are lines");
    }

    [TestMethod]
    public void MetricsAppendWritesOneHeaderTruncateDropsOnlyLaterEpochsOfTheFold()
    {
        using var dir = new TempDir();
        var metrics = new MetricsFile(dir.Sub(RunFolder.MetricsFileName));
        foreach (var row in new[] { Row(1, 1, 0.2), Row(1, 2, 0.3), Row(2, 1, 0.25), Row(1, 3, 0.35), Row(2, 2, 0.4) }) metrics.Append(row);

        var lines = File.ReadAllLines(metrics.Path);
        Assert.AreEqual("fold,epoch,learning_rate,train_loss,train_accuracy,validation_loss,validation_accuracy,epoch_seconds,samples_per_second", lines[0]);
        Assert.AreEqual(6, lines.Length);
        Assert.AreEqual(Row(1, 3, 0.35), metrics.ReadAll()[3], "values round-trip exactly");

        metrics.TruncateFold(1, 1);
        CollectionAssert.AreEqual(new[] { "1/1", "2/1", "2/2" }, metrics.ReadAll().Select(r => $"{r.Fold}/{r.Epoch}").ToArray());
    }

    [TestMethod]
    public void SummaryHasFinalAndBestPerFinishedFoldMeanAndSampleStd()
    {
        using var dir = new TempDir();
        var rows = new[] { Row(1, 1, 0.5), Row(1, 2, 0.4), Row(3, 1, 0.6), Row(3, 2, 0.8), Row(4, 1, 0.9) };
        var folds = RunSummary.FromMetrics(rows, epochs: 2);

        Assert.AreEqual(2, folds.Count, "fold 4 has not finished");
        Assert.AreEqual(new FoldSummary(1, 2, 0.4, 0.5, 1), folds[0]);
        Assert.AreEqual(new FoldSummary(3, 2, 0.8, 0.8, 2), folds[1]);
        RunSummary.Write(dir.Sub("summary.csv"), folds);
        var lines = File.ReadAllLines(dir.Sub("summary.csv"));
        CollectionAssert.AreEqual(new[] { "fold,epochs,final_accuracy,best_accuracy,best_epoch", "1,2,0.4,0.5,1", "3,2,0.8,0.8,2" }, lines[..3]);
        double[] Values(string line, string name)
        {
            var fields = line.Split(',');
            Assert.AreEqual((name, "", ""), (fields[0], fields[1], fields[4]));
            return [double.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture), double.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture)];
        }
        var mean = Values(lines[3], "mean");
        var std = Values(lines[4], "std");
        Assert.AreEqual(0.6, mean[0], 1e-12);
        Assert.AreEqual(0.65, mean[1], 1e-12);
        Assert.AreEqual(Math.Sqrt(0.08), std[0], 1e-12, "sample standard deviation (n - 1)");
        Assert.AreEqual(Math.Sqrt(0.045), std[1], 1e-12);
    }

    [TestMethod]
    public void ConfusionMatrixRoundTripsAndSums()
    {
        using var dir = new TempDir();
        var matrix = new ConfusionMatrix(["dog", "rain, heavy", "saw"]);
        matrix.Add(0, 0);
        matrix.Add(1, 2, 3);
        matrix.Add(2, 2);
        matrix.Write(dir.Sub("confusion.csv"));

        var read = ConfusionMatrix.Read(dir.Sub("confusion.csv"));
        read.Add(matrix);
        Assert.AreEqual(10, read.Total);
        Assert.AreEqual(6, read[1, 2]);
        Assert.AreEqual(0.4, read.Accuracy, 1e-12);
        Assert.AreEqual("true\\predicted,dog,\"rain, heavy\",saw", File.ReadLines(dir.Sub("confusion.csv")).First());
    }

    [TestMethod]
    public void LearningCurvesRenderAPngWithContent()
    {
        using var dir = new TempDir();
        var rows = Enumerable.Range(1, 10).SelectMany(e => new[] { Row(1, e, 0.05 * e), Row(2, e, 0.06 * e) }).ToList();
        var path = dir.Sub(RunFolder.LearningCurvesFileName);
        LearningCurvePlot.Write(path, rows, "envnet-tiny");

        using var image = Image.Load<Rgba32>(path);
        Assert.AreEqual((1400, 520), (image.Width, image.Height));
        var colours = new HashSet<Rgba32>();
        image.ProcessPixelRows(pixels =>
        {
            for (var y = 0; y < pixels.Height; y += 4)
                foreach (var pixel in pixels.GetRowSpan(y)) colours.Add(pixel);
        });
        Assert.IsTrue(colours.Count > 20, $"{colours.Count} colours: lines, text and axes were drawn");
    }
}
