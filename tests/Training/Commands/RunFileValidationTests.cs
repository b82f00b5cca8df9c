using System.Text.Json.Nodes;
using EnvNet.Training.Commands;
using EnvNet.Training.Run;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// run.json read back by --resume is checked as strictly as the command line, by the same validator (issue 21, case
/// 4): a deleted field is an error naming it, not a recipe default; fold lists and values the command line refuses
/// are refused with the file and the field named; a refused resume leaves run.json as it was. The run folder of
/// the current main (every field it has) still validates.
/// </summary>
[TestClass]
public sealed class RunFileValidationTests
{
    private static TempDir _root = null!;

    [ClassInitialize]
    public static void CreateScratch(TestContext _) => _root = new TempDir();

    [ClassCleanup]
    public static void DeleteScratch() => _root.Dispose();

    /// <summary>A copy of the finished tiny run with its run.json edited.</summary>
    private static string RunWith(string name, Action<JsonObject> edit)
    {
        var run = _root.Sub(name);
        SpecialFiles.CopyFolder(TinyTrainingRun.Finished, run);
        var runFile = Path.Combine(run, RunFolder.RunFileName);
        var json = JsonNode.Parse(File.ReadAllText(runFile))!.AsObject();
        json["outDir"] = run;
        edit(json);
        File.WriteAllText(runFile, json.ToJsonString());
        return run;
    }

    private static (int Code, string Error, bool RunFileKept) Resume(string run, params string[] extra)
    {
        var runFile = Path.Combine(run, RunFolder.RunFileName);
        var before = File.ReadAllText(runFile);
        var (code, _, error) = Cli(["train", "--resume", "--out", run, .. extra]);
        return (code, error, File.ReadAllText(runFile) == before);
    }

    [TestMethod]
    public void DeletedFieldIsAnErrorNamingTheFileAndTheFieldNotARecipeDefault()
    {
        var run = RunWith("deleted", json => json.Remove("learningRate"));
        var (code, error, kept) = Resume(run);
        Assert.AreEqual(ExitCodes.Usage, code, error);
        Assert.AreEqual($"error: {Path.Combine(run, RunFolder.RunFileName)}: expected the field 'learningRate'; it is missing (a run file records every option of its run).",
            error.Trim());
        Assert.IsTrue(kept, "run.json is left as it was");
    }

    [TestMethod]
    [DataRow("[9]")]
    [DataRow("[]")]
    [DataRow("[1,1]")]
    [DataRow("[0]")]
    public void FoldListTheCommandLineRefusesIsRefusedInRunJson(string folds)
    {
        var run = RunWith($"folds-{folds.GetHashCode():x}", json => json["folds"] = JsonNode.Parse(folds));
        var (code, error, kept) = Resume(run);
        Assert.AreEqual(ExitCodes.Usage, code, error);
        StringAssert.StartsWith(error, $"error: {Path.Combine(run, RunFolder.RunFileName)}, field 'folds': expected one or more fold numbers from 1 to 5, each once; got ");
        Assert.IsTrue(kept);
    }

    [TestMethod]
    [DataRow("learningRate", "0", "expected a learning rate > 0; got 0.")]
    [DataRow("batch", "-4", "expected a positive batch size; got -4.")]
    [DataRow("model", "\"no-such-model\"", "no-such-model")]
    [DataRow("learningRateSteps", "[0.75,0.5]", "expected increasing fractions of the epochs strictly between 0 and 1; got [0.75,0.5].")]
    [DataRow("folds", "null", "")]
    [DataRow("learningRate", "\"fast\"", "")]
    public void BadValueNamesTheFileAndTheFieldNotTheOption(string field, string value, string expected)
    {
        var run = RunWith($"{field}-{value.GetHashCode():x}", json => json[field] = JsonNode.Parse(value));
        var (code, error, kept) = Resume(run);
        Assert.AreEqual(ExitCodes.Usage, code, error);
        StringAssert.StartsWith(error, $"error: {Path.Combine(run, RunFolder.RunFileName)}, field '{field}': ");
        StringAssert.Contains(error, expected);
        Assert.DoesNotContain("--", error.Replace("--resume", ""), "the message names the file's field, not a command-line option");
        Assert.IsTrue(kept);
    }

    /// <summary>The fields of a run.json written by main before issue 21 (as in a 150-epoch run of envnet on fold 1):
    /// every one is required, and none of their values becomes invalid.</summary>
    [TestMethod]
    public void RunFileOfTheEarlierFormatStillValidatesForResume()
    {
        var run = _root.Sub("main-format");
        SpecialFiles.CopyFolder(TinyTrainingRun.Finished, run);
        File.WriteAllText(Path.Combine(run, RunFolder.RunFileName), $$"""
            {
              "dataDir": {{JsonValue.Create(TinyTrainingRun.Data).ToJsonString()}},
              "embedded": false,
              "subset": "esc50",
              "folds": [
                1
              ],
              "model": "envnet-tiny",
              "epochs": 150,
              "epochsBeforeExtension": null,
              "batch": 64,
              "learningRate": 0.01,
              "learningRateSteps": [
                0.5,
                0.75
              ],
              "warmupEpochs": 0,
              "optimizer": "sgd-nesterov",
              "momentum": 0.9,
              "weightDecay": 0.0005,
              "testCrops": 1,
              "betweenClass": false,
              "strongAugment": false,
              "freqRespEvery": 10,
              "accelerator": "cpu",
              "seed": 0,
              "outDir": {{JsonValue.Create(run).ToJsonString()}},
              "cacheDir": {{JsonValue.Create(TinyTrainingRun.Cache).ToJsonString()}},
              "skipBad": false
            }
            """);
        var validated = TrainOptionsValidator.Validate(new TrainArguments { Resume = true, Out = run });
        Assert.IsTrue(validated.IsValid, string.Join("\n", validated.Errors));
        Assert.AreEqual(0.01, validated.Value!.LearningRate);
        CollectionAssert.AreEqual(new[] { 1 }, validated.Value.Folds);
    }
}
