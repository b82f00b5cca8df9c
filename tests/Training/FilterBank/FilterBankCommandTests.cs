using EnvNet.Network;
using EnvNet.Training.Run;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Commands;
using EnvNet.Training.FilterBank;
using EnvNet.Training.Results;
using Serilog;
using SixLabors.ImageSharp;

namespace EnvNet.Tests;

/// <summary>The probe where a person meets it: <c>envnet freqresp</c>, the training hook and its option.</summary>
[TestClass]
public sealed class FilterBankCommandTests
{
    private static readonly EnvNetConfig Tiny = EnvNetConfig.ByName("envnet-tiny", 10);

    [TestMethod]
    public void FreqRespCommandRecordsACheckpointsFilterBank()
    {
        using var dir = new TempDir();
        var checkpoint = dir.Sub("epoch7.safetensors");
        using (var model = NetworkModel.Create(TestDevice.Cpu, Tiny, maxBatch: 1, seed: 4))
            ModelCheckpoint.Save(checkpoint, model, new CheckpointInfo("envnet-tiny", "esc50",
                Enumerable.Range(0, 10).Select(i => $"class{i}").ToList(), Fold: 3, Epoch: 7, Seed: 4, ValidationAccuracy: 0.1));
        var output = new StringWriter();
        var error = new StringWriter();

        var code = EnvNetCli.Run(["freqresp", "--checkpoint", checkpoint, "--out", dir.Sub("out"), "--accelerator", "cpu", "--batch", "100"], output, error);

        Assert.AreEqual(ExitCodes.Success, code, error.ToString());
        StringAssert.Contains(output.ToString(), "envnet-tiny (fold 3, epoch 7)");
        StringAssert.Contains(output.ToString(), "mel correlation");
        var rows = FrequencyResponseLog.ReadRows(Path.Combine(dir.Sub("out"), FrequencyResponseLog.ResponseFileName));
        Assert.AreEqual(Tiny.FeatureFilters * ToneSweep.DefaultCount, rows.Count);
        Assert.IsTrue(rows.All(r => r.Fold == 3 && r.Epoch == 7));
        Assert.IsTrue(new FileInfo(FilterBankRecorder.HeatmapPath(dir.Sub("out"), 7)).Length > 0);
        using var gif = Image.Load(Path.Combine(FilterBankRecorder.PicturesDir(dir.Sub("out")), FilterBankRecorder.AnimationFileName));
        Assert.AreEqual(1, gif.Frames.Count);
    }

    [TestMethod]
    public void FreqRespCommandWithoutACheckpointIsAUsageError()
    {
        var error = new StringWriter();
        Assert.AreEqual(ExitCodes.Usage, EnvNetCli.Run(["freqresp", "--checkpoint", "/nonexistent/last.safetensors"], new StringWriter(), error));
        StringAssert.Contains(error.ToString(), "--checkpoint");
    }

    [TestMethod]
    public void HookRecordsEveryNthAndTheLastEpochAndAnimatesAtTheEnd()
    {
        using var dir = new TempDir();
        var foldDir = dir.Sub("fold-1");
        // Smaller than any named model, so three epochs of 200 tones take a moment on the CPU test device.
        var config = new EnvNetConfig("hook-test", 16000, 7 + 16 * 4, 2,
            Features: new([new(4, 1, 4), new(3, 1, 4)], new(1, 16)), ClassifierStages: [new([new(2, 1, 1)], new(1, 1))], HiddenFeatures: []);
        using var model = NetworkModel.Create(TestDevice.Cpu, config, maxBatch: 100, seed: 2);
        using var logger = new LoggerConfiguration().CreateLogger();
        var hook = new FilterBankHook(every: 2, epochs: 3);

        foreach (var epoch in new[] { 1, 2, 3 })
            hook.AfterEpoch(new EpochContext(1, epoch, model, new EpochMetrics { Fold = 1, Epoch = epoch, EpochSeconds = 10 },
                dir.Path, foldDir, logger));

        var summaries = FrequencyResponseLog.ReadSummaries(Path.Combine(dir.Path, FrequencyResponseLog.SummaryFileName));
        CollectionAssert.AreEqual(new[] { 2, 3 }, summaries.Select(s => s.Epoch).ToArray());
        Assert.IsFalse(File.Exists(FilterBankRecorder.HeatmapPath(foldDir, 1)));
        using var gif = Image.Load(Path.Combine(FilterBankRecorder.PicturesDir(foldDir), FilterBankRecorder.AnimationFileName));
        Assert.AreEqual(2, gif.Frames.Count);
    }

    [TestMethod]
    public void HookRecordsTheInitialBankAsEpochZeroAndEverySummaryRowCarriesItsScore()
    {
        using var dir = new TempDir();
        var foldDir = dir.Sub("fold-1");
        var config = new EnvNetConfig("hook-test", 16000, 7 + 16 * 4, 2,
            Features: new([new(4, 1, 4), new(3, 1, 4)], new(1, 16)), ClassifierStages: [new([new(2, 1, 1)], new(1, 1))], HiddenFeatures: []);
        using var model = NetworkModel.Create(TestDevice.Cpu, config, maxBatch: 100, seed: 2);
        using var logger = new LoggerConfiguration().CreateLogger();
        var hook = new FilterBankHook(every: 1, epochs: 2);

        hook.BeforeFirstEpoch(new FoldStartContext(1, model, dir.Path, foldDir, logger));
        var rng = new Random(3);
        var inputs = Enumerable.Range(0, 4 * config.InputLength).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        foreach (var epoch in new[] { 1, 2 })
        {
            model.TrainStep(inputs, [1, 0, 0, 1, 1, 0, 0, 1], 4, 0.5f, 0.9f, 0);
            hook.AfterEpoch(new EpochContext(1, epoch, model, new EpochMetrics { Fold = 1, Epoch = epoch, EpochSeconds = 10 },
                dir.Path, foldDir, logger));
        }

        var summaries = FrequencyResponseLog.ReadSummaries(Path.Combine(dir.Path, FrequencyResponseLog.SummaryFileName));
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, summaries.Select(s => s.Epoch).ToArray());
        Assert.IsFalse(double.IsNaN(summaries[0].MelCorrelation));
        CollectionAssert.AreEqual(Enumerable.Repeat(summaries[0].MelCorrelation, 3).ToArray(), summaries.Select(s => s.InitialMelCorrelation).ToArray());
        Assert.IsTrue(File.Exists(FilterBankRecorder.HeatmapPath(foldDir, 0)));
        using var gif = Image.Load(Path.Combine(FilterBankRecorder.PicturesDir(foldDir), FilterBankRecorder.AnimationFileName));
        Assert.AreEqual(3, gif.Frames.Count, "the first frame is the initial bank");
    }

    [TestMethod]
    public void FreqRespEveryDefaultsToEachEpochAndRejectsNegatives()
    {
        using var dir = new TempDir();
        var valid = TrainOptionsValidator.Validate(new TrainArguments { Out = dir.Sub("run"), Cache = dir.Sub("cache") });
        Assert.AreEqual(1, valid.Value!.FreqRespEvery);
        var off = TrainOptionsValidator.Validate(new TrainArguments { Out = dir.Sub("run"), Cache = dir.Sub("cache"), FreqRespEvery = 0 });
        Assert.IsTrue(off.IsValid, string.Join("\n", off.Errors));

        var error = new StringWriter();
        var code = EnvNetCli.Run(["train", "--freqresp-every", "-1", "--out", dir.Sub("run2"), "--cache", dir.Sub("cache")], new StringWriter(), error);
        Assert.AreEqual(ExitCodes.Usage, code);
        StringAssert.Contains(error.ToString(), "--freqresp-every: expected 0 (off) or a positive number of epochs; got -1.");
    }
}
