using EnvNet.Network;
using EnvNet.Training.Commands;

namespace EnvNet.Tests;

/// <summary>The model registry: every model builds, its names are unique, its recipe is sane, and the README's model
/// table is what <c>envnet models --markdown</c> prints.</summary>
[TestClass]
public sealed class ModelRegistryTests
{
    private const string TableStart = "<!-- models:begin (envnet models --markdown) -->";
    private const string TableEnd = "<!-- models:end -->";

    [TestMethod]
    public void ReadmeModelTableIsTheGeneratedOne()
    {
        var readme = File.ReadAllText(Path.Combine(Esc50TestData.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
        var start = readme.IndexOf(TableStart, StringComparison.Ordinal);
        var end = readme.IndexOf(TableEnd, StringComparison.Ordinal);
        Assert.IsTrue(start >= 0 && end > start, $"README.md holds the model table between '{TableStart}' and '{TableEnd}'");
        var table = readme[(start + TableStart.Length)..end].Trim('\n');

        var generated = ModelsCommand.MarkdownTable(ModelRegistry.Models.Select(ModelListing.Of)).Trim('\n');
        Assert.AreEqual(generated, table, "paste the output of 'envnet models --markdown' between the README's markers");
    }

    [TestMethod]
    public void EveryModelHasAUniqueNameAConfigOfThatNameAndAPositiveRecipe()
    {
        CollectionAssert.AllItemsAreUnique(ModelRegistry.Names.ToList());
        foreach (var definition in ModelRegistry.Models)
        {
            var config = ModelRegistry.Config(definition.Name, 7);
            Assert.AreEqual((definition.Name, 7), (config.Name, config.Classes));
            Assert.IsTrue(config.FrontEnds.Count > 0, $"{definition.Name} names the front end the filter-bank probe reads");
            var r = definition.Recipe;
            Assert.IsTrue(r.Epochs > 0 && r.LearningRate > 0 && r.Batch > 0 && r.TestCrops > 0 && r.WarmupEpochs < r.Epochs,
                $"{definition.Name}: {r}");
            Assert.IsTrue(r.LearningRateSteps.All(s => s is > 0 and < 1), $"{definition.Name}: steps are fractions of the epochs");
        }
    }

    [TestMethod]
    public void UnknownModelNamesEveryKnownOne()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => ModelRegistry.Config("resnet", 50));
        foreach (var name in ModelRegistry.Names) StringAssert.Contains(error.Message, name);
        StringAssert.Contains(ModelRegistry.UnknownModelMessage("--model", "resnet"), "--model: expected one of envnet,");
    }

    [TestMethod]
    public void MilestonesInEpochsBecomeTheFractionsThatDropTheRateAfterThoseEpochs()
    {
        var steps = TrainingRecipe.StepsAtEpochs(160, 60, 120, 140);
        var schedule = new EnvNet.Training.Run.LearningRateSchedule(0.1, steps, 160);

        Assert.AreEqual(0.1, schedule.At(60), 1e-15);
        Assert.AreEqual(0.01, schedule.At(61), 1e-15);
        Assert.AreEqual(0.001, schedule.At(121), 1e-15);
        Assert.AreEqual(0.0001, schedule.At(141), 1e-15);
    }
}
