using EnvNet.Network;
using EnvNet.Training.Run;
using EnvNet.Training.Commands;

namespace EnvNet.Tests;

/// <summary>The authors' recipe per model, subset and --bc (<see cref="ModelDefinition.RecipeFor"/>) as <c>envnet train --data</c>
/// resolves it, explicit options over it, and its learning-rate schedule with warm-up.</summary>
[TestClass]
public sealed class TrainingRecipeTests
{
    /// <summary>The options <c>envnet train</c> resolves; <paramref name="withData"/>: --data names a folder the option
    /// checks accept (they look only for meta/esc50.csv), otherwise the embedded default.</summary>
    private static TrainOptions Resolve(TrainArguments arguments, bool withData = true)
    {
        using var dir = new TempDir();
        var data = withData ? Esc50Folder.WriteMetadataOnly(dir.Sub("data")) : null;
        var result = TrainOptionsValidator.Validate(arguments with { Data = data, Out = dir.Sub("run"), Cache = dir.Sub("cache") });
        Assert.IsTrue(result.IsValid, string.Join("\n", result.Errors));
        return result.Value!;
    }

    [TestMethod]
    // EnvNet on ESC-50 (Tokozume & Harada 2017)
    [DataRow("envnet", "esc50", false, 600, 0.01, new[] { 0.5, 0.75 }, 0)]
    [DataRow("envnet-tiny", "esc50", false, 600, 0.01, new[] { 0.5, 0.75 }, 0)]
    // EnvNet-v2 on ESC-50 (Tokozume, Ushiku & Harada 2018)
    [DataRow("envnet-v2", "esc50", false, 1000, 0.1, new[] { 0.3, 0.6, 0.9 }, 10)]
    [DataRow("envnet-v2-tiny", "esc50", false, 1000, 0.1, new[] { 0.3, 0.6, 0.9 }, 10)]
    // --bc doubles the epochs of every row
    [DataRow("envnet", "esc50", true, 1200, 0.01, new[] { 0.5, 0.75 }, 0)]
    [DataRow("envnet-v2", "esc50", true, 2000, 0.1, new[] { 0.3, 0.6, 0.9 }, 10)]
    // ESC-10: EnvNet's row for both models
    [DataRow("envnet", "esc10", false, 600, 0.01, new[] { 0.5, 0.75 }, 0)]
    [DataRow("envnet-v2", "esc10", false, 600, 0.01, new[] { 0.5, 0.75 }, 0)]
    [DataRow("envnet-v2", "esc10", true, 1200, 0.01, new[] { 0.5, 0.75 }, 0)]
    public void DefaultsAreTheAuthorsRecipeForModelSubsetAndBc(string model, string subset, bool bc,
        int epochs, double learningRate, double[] steps, int warmup)
    {
        var o = Resolve(new TrainArguments { Model = model, Subset = subset, BetweenClass = bc });

        Assert.AreEqual((epochs, learningRate, warmup, bc, false), (o.Epochs, o.LearningRate, o.WarmupEpochs, o.BetweenClass, o.StrongAugment));
        CollectionAssert.AreEqual(steps, o.LearningRateSteps);
        Assert.AreEqual((64, 0.9, 5e-4, 10), (o.Batch, o.Momentum, o.WeightDecay, o.TestCrops), "the same in every row");
    }

    [TestMethod]
    public void ExplicitOptionsWinOverTheRecipe()
    {
        var o = Resolve(new TrainArguments
        {
            Model = "envnet-v2", BetweenClass = true, StrongAugment = true,
            Epochs = 50, LearningRate = 0.05, LearningRateSteps = "0.5", WarmupEpochs = 0,
        });

        Assert.AreEqual((50, 0.05, 0, true, true), (o.Epochs, o.LearningRate, o.WarmupEpochs, o.BetweenClass, o.StrongAugment), "--bc doubles only the default");
        CollectionAssert.AreEqual(new[] { 0.5 }, o.LearningRateSteps);
        var partly = Resolve(new TrainArguments { Model = "envnet-v2", Epochs = 100 });
        Assert.AreEqual((100, 0.1, 10), (partly.Epochs, partly.LearningRate, partly.WarmupEpochs), "options not given still come from the recipe");
    }

    [TestMethod]
    public void EmbeddedDefaultKeepsItsOwnSchedule()
    {
        var o = Resolve(new TrainArguments { Model = "envnet-v2-tiny", BetweenClass = true }, withData: false);

        Assert.IsTrue(o.Embedded);
        Assert.AreEqual((EmbeddedDefault.Epochs, EmbeddedDefault.LearningRate, 0, EmbeddedDefault.Batch, true),
            (o.Epochs, o.LearningRate, o.WarmupEpochs, o.Batch, o.BetweenClass));
        CollectionAssert.AreEqual(EmbeddedDefault.LearningRateSteps, o.LearningRateSteps);
    }

    [TestMethod]
    public void EmbeddedDefaultKeepsAnAdamModelsRate()
    {
        var o = Resolve(new TrainArguments { Model = "m5" }, withData: false);

        Assert.AreEqual((EmbeddedDefault.Epochs, EmbeddedDefault.Batch, 1e-3, OptimizerKind.Adam), (o.Epochs, o.Batch, o.LearningRate, o.Optimizer));
        Assert.AreEqual(0, o.LearningRateSteps.Length);
    }

    [TestMethod]
    public void EmbeddedDefaultKeepsAnAdadeltaModelsRate()
    {
        var o = Resolve(new TrainArguments { Model = "abdolinet" }, withData: false);

        Assert.AreEqual((EmbeddedDefault.Epochs, EmbeddedDefault.Batch, 0.01, OptimizerKind.Adadelta), (o.Epochs, o.Batch, o.LearningRate, o.Optimizer));
        Assert.AreEqual(0, o.LearningRateSteps.Length);
    }

    [TestMethod]
    [DataRow(1, 0.01)]   // warm-up at a tenth of 0.1
    [DataRow(10, 0.01)]
    [DataRow(11, 0.1)]
    [DataRow(300, 0.1)]
    [DataRow(301, 0.01)]
    [DataRow(600, 0.01)]
    [DataRow(601, 0.001)]
    [DataRow(901, 0.0001)]
    [DataRow(1000, 0.0001)]
    public void EnvNetV2ScheduleWarmsUpThenDividesBy10After306090Percent(int epoch, double expected)
    {
        var recipe = ModelRegistry.Definition("envnet-v2").RecipeFor(onEsc10: false, betweenClass: false);
        var schedule = new LearningRateSchedule(recipe.LearningRate, recipe.LearningRateSteps, recipe.Epochs, recipe.WarmupEpochs);
        Assert.AreEqual(expected, schedule.At(epoch), 1e-15);
        Assert.AreEqual("epochs 1-10 at 0.01 (warm-up), 11-300 at 0.1, 301-600 at 0.01, 601-900 at 0.001, 901-1000 at 0.0001 " +
                        "(0.1 divided by 10 after 30 %, 60 %, 90 % of 1000 epochs)", schedule.Describe());
    }

    /// <summary>The authors' schedules at every recipe length: the epoch after s x epochs finished epochs is the
    /// first at the lower rate.</summary>
    [TestMethod]
    [DataRow(600, 0.01, new[] { 0.5, 0.75 }, 0, new[] { 300, 450 })]
    [DataRow(1200, 0.01, new[] { 0.5, 0.75 }, 0, new[] { 600, 900 })]
    [DataRow(1000, 0.1, new[] { 0.3, 0.6, 0.9 }, 10, new[] { 300, 600, 900 })]
    [DataRow(2000, 0.1, new[] { 0.3, 0.6, 0.9 }, 10, new[] { 600, 1200, 1800 })]
    public void RecipeLengthsDropTheRateInTheEpochAfterEachStep(int epochs, double rate, double[] steps, int warmup, int[] lastEpochsBeforeDrops)
    {
        var schedule = new LearningRateSchedule(rate, steps, epochs, warmup);
        var expected = Enumerable.Range(1, epochs)
            .Select(e => e <= warmup ? rate / 10 : rate * Math.Pow(0.1, lastEpochsBeforeDrops.Count(last => e > last)))
            .ToArray();
        var actual = Enumerable.Range(1, epochs).Select(schedule.At).ToArray();
        for (var e = 0; e < epochs; e++) Assert.AreEqual(expected[e], actual[e], 1e-15, $"epoch {e + 1}");
    }

    /// <summary>A recipe written as epoch milestones (<see cref="TrainingRecipe.StepsAtEpochs"/>, PyTorch's
    /// MultiStepLR) drops the rate after exactly m finished epochs, also where m / epochs x epochs rounds to a hair
    /// above m (7 of 25, 14 of 25, 15 of 29) or below it (15 of 22, 13 of 23): the finished-epochs rule holds for
    /// milestones as for fractions.</summary>
    [TestMethod]
    [DataRow(25, new[] { 7, 14 })]
    [DataRow(29, new[] { 15 })]
    [DataRow(22, new[] { 15 })]
    [DataRow(23, new[] { 13 })]
    [DataRow(39, new[] { 29, 31 })]
    [DataRow(100, new[] { 30, 60, 90 })]
    [DataRow(160, new[] { 60, 120, 140 })] // wavemsnet's recipe
    public void MilestoneStepsDropTheRateAfterExactlyThoseFinishedEpochs(int epochs, int[] milestones)
    {
        var steps = TrainingRecipe.StepsAtEpochs(epochs, milestones);
        var schedule = new LearningRateSchedule(1e-3, steps, epochs);
        for (var epoch = 1; epoch <= epochs; epoch++)
            Assert.AreEqual(1e-3 * Math.Pow(0.1, milestones.Count(m => epoch - 1 >= m)), schedule.At(epoch), 1e-18, $"epoch {epoch}");
        CollectionAssert.AreEqual(milestones, steps.Select(schedule.FinishedEpochsAt).ToArray());
    }

    [TestMethod]
    [DataRow(1, "epoch 1 at 0.03 (0.03 divided by 10 after 50 %, 75 % of 1 epoch)")]
    [DataRow(2, "epoch 1 at 0.03, 2 at 0.003 (0.03 divided by 10 after 50 %, 75 % of 2 epochs)")]
    public void ShortRunsTrainTheirFirstEpochAtTheGivenRate(int epochs, string described)
    {
        var schedule = new LearningRateSchedule(0.03, [0.5, 0.75], epochs);
        Assert.AreEqual(0.03, schedule.At(1), 1e-15, "no step is reached before an epoch has finished");
        Assert.AreEqual(described, schedule.Describe());
        Assert.AreEqual(0.03, new LearningRateSchedule(0.03, [], epochs).At(epochs), 1e-15);
    }
}
