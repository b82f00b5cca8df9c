using System.CommandLine;
using System.CommandLine.Help;
using EnvNet.Training.Run;
using EnvNet.Esc50Dataset;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Commands;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// Every option (and argument) of every envnet command, given a bad value in an otherwise valid command line, is
/// refused before any work with exit code 2 and one line on standard error that names it. The list of bad values is
/// checked against the command tree, so a new option without an entry here fails <see cref="EveryOptionOfEveryCommandIsSwept"/>.
/// Placeholders: {file} is a plain file (so {file}/x cannot be created), {empty} an empty folder.
/// </summary>
[TestClass]
public sealed class OptionSweepTests
{
    private const string Flag = "=maybe"; // a flag given a value: --json=maybe

    private static readonly (string Command, string Option, string[] BadValues)[] BadValues =
    [
        ("train", "--data", ["/nonexistent/ESC-50", "{file}", "{empty}"]),
        ("train", "--subset", ["esc20", ""]),
        ("train", "--dataset", ["esc20", ""]),
        ("train", "--fold-count", ["1", "101", "abc"]),
        ("train", "--folds", ["1,6", "2,2", "one", "0"]),
        ("train", "--fold", ["0", "6", "abc"]),
        ("train", "--model", ["resnet"]),
        ("train", "--epochs", ["0", "-1", "1.5", "abc"]),
        ("train", "--batch", ["0", "-64", "abc"]),
        ("train", "--lr", ["0", "-0.1", "NaN", "Infinity", "1e400", "abc"]),
        ("train", "--lr-steps", ["0.75,0.5", "1", "0,0.5", "abc"]),
        ("train", "--warmup-epochs", ["-1", "1", "abc"]), // the valid command line trains 1 epoch
        ("train", "--bc", [Flag]),
        ("train", "--strong-augment", [Flag]),
        ("train", "--momentum", ["1", "-0.1", "NaN", "abc"]),
        ("train", "--weight-decay", ["-1", "NaN", "Infinity", "abc"]),
        ("train", "--test-crops", ["0", "abc"]),
        ("train", "--freqresp-every", ["-1", "abc"]),
        ("train", "--accelerator", ["tpu"]),
        ("train", "--seed", ["abc", "99999999999"]),
        ("train", "--out", ["{file}/run"]),
        ("train", "--cache", ["{file}/cache"]),
        ("train", "--resume", [Flag]),
        ("train", "--skip-bad", [Flag]),
        ("evaluate", "--checkpoint", ["/nonexistent.safetensors", "{empty}"]),
        ("evaluate", "--data", ["/nonexistent/ESC-50", "{empty}"]),
        ("evaluate", "--fold", ["0", "6", "abc"]),
        ("evaluate", "--test-crops", ["0", "abc"]),
        ("evaluate", "--batch", ["0", "abc"]),
        ("evaluate", "--accelerator", ["tpu"]),
        ("evaluate", "--out", ["{file}/out"]),
        ("evaluate", "--cache", ["{file}/cache"]),
        ("evaluate", "--skip-bad", [Flag]),
        ("predict", "--checkpoint", ["/nonexistent.safetensors"]),
        ("predict", "--onnx", ["/nonexistent.onnx"]),
        ("predict", "--wav", ["/nonexistent.wav", "{empty}"]),
        ("predict", "--list", ["/nonexistent.txt", "{empty}"]),
        ("predict", "--format", ["xml"]),
        ("predict", "--top", ["0", "abc"]),
        ("predict", "--json", [Flag]),
        ("predict", "--test-crops", ["0", "abc"]),
        ("predict", "--accelerator", ["tpu"]),
        ("export", "--checkpoint", ["/nonexistent.safetensors", "{empty}"]),
        ("export", "--onnx", ["{file}/model.onnx", "{empty}"]),
        ("export", "--opset", ["8", "18", "abc"]),
        ("export", "--batch", ["0", "-1", "static", ""]),
        ("report", "RUN_DIR", ["/nonexistent/run", "{empty}"]),
        ("report", "--out", ["{file}/report"]),
        ("info", "CHECKPOINT", ["/nonexistent.safetensors", "{empty}"]),
        ("cache", "--cache", ["{file}/cache"]),
        ("help", "COMMAND", ["frobnicate"]),
        ("shapes", "--model", ["resnet"]),
        ("shapes", "--classes", ["0", "abc"]),
        ("shapes", "--batch", ["0", "abc"]),
        ("shapes", "--plan", ["opencl", "cuda:sm_50", ""]),
        ("models", "--markdown", [Flag]),
        ("synth", "--out", ["{file}/synth"]),
        ("synth", "--layout", ["csv", "wav", ""]),
        ("synth", "--classes", ["0", "51", "abc"]),
        ("synth", "--clips-per-class-per-fold", ["0", "abc"]),
        ("synth", "--seed", ["abc"]),
        ("freqresp", "--checkpoint", ["/nonexistent.safetensors"]),
        ("freqresp", "--out", ["{file}/freqresp"]),
        ("freqresp", "--batch", ["0", "abc"]),
        ("freqresp", "--accelerator", ["tpu"]),
        ("bench", "--model", ["resnet"]),
        ("bench", "--batch", ["0", "abc"]),
        ("bench", "--accelerator", ["tpu"]),
        ("bench", "--steps", ["0", "abc"]),
        ("bench", "--warmup", ["-1", "abc"]),
        ("bench", "--json", ["{file}/bench.json", "{empty}"]),
        ("bench", "--plain-kernels", [Flag]),
        ("bench", "--step-only", [Flag]),
        ("selfcheck", "--batch", ["0", "abc"]),
        ("selfcheck", "--accelerator", ["tpu"]),
    ];

    private static TempDir _root = null!;
    private static int _case;

    private static string Data => _root.Sub("data");
    private static string Checkpoint => _root.Sub("tiny.safetensors");

    /// <summary>A valid command line of each command, quick to refuse; {out} is a fresh folder per case.</summary>
    private static string[] ValidArguments(string command) => command switch
    {
        "train" => ["--data", Data, "--out", "{out}", "--cache", _root.Sub("cache"), "--model", "envnet-tiny", "--epochs", "1", "--fold", "1",
            "--batch", "4", "--test-crops", "1", "--freqresp-every", "0", "--accelerator", "cpu"],
        "evaluate" => ["--checkpoint", Checkpoint, "--data", Data, "--fold", "1", "--test-crops", "1", "--batch", "4", "--accelerator", "cpu",
            "--out", "{out}", "--cache", _root.Sub("cache")],
        "predict" => ["--checkpoint", Checkpoint, "--wav", Directory.EnumerateFiles(Path.Combine(Data, "audio")).First(), "--test-crops", "1",
            "--accelerator", "cpu"],
        "export" => ["--checkpoint", Checkpoint, "--onnx", _root.Sub("tiny.onnx")],
        "report" => [_root.Sub("run"), "--out", "{out}"],
        "info" => [Checkpoint],
        "cache" => ["--cache", "{out}"],
        "help" => ["train"],
        "shapes" => ["--model", "envnet-tiny"],
        "models" => [],
        "synth" => ["--out", "{out}", "--classes", "1", "--clips-per-class-per-fold", "1"],
        "freqresp" => ["--checkpoint", Checkpoint, "--out", "{out}", "--accelerator", "cpu"],
        "bench" => ["--model", "envnet-tiny", "--batch", "1", "--steps", "1", "--warmup", "0", "--accelerator", "cpu"],
        "selfcheck" => ["--batch", "1", "--accelerator", "cpu"],
        _ => throw new ArgumentException(command),
    };

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Cases =>
        BadValues.SelectMany(entry => entry.BadValues.Select(value => new object[] { entry.Command, entry.Option, value }));

    [ClassInitialize]
    public static void WriteInputs(TestContext _)
    {
        _root = new TempDir();
        SyntheticEsc50.Write(Data, classes: 2, clipsPerClassPerFold: 1, seed: 3);
        File.WriteAllText(_root.Sub("file"), "");
        Directory.CreateDirectory(_root.Sub("empty"));
        using (var model = NetworkModel.Create(TestDevice.Cpu, ModelRegistry.Config("envnet-tiny", 2), maxBatch: 1, seed: 1))
            ModelCheckpoint.Save(Checkpoint, model,
                new CheckpointInfo("envnet-tiny", "esc50", Esc50Metadata.Load(Data).ClassNames, Fold: 1, Epoch: 1, Seed: 1, ValidationAccuracy: 0.5));
        Directory.CreateDirectory(_root.Sub("run"));
        File.WriteAllText(Path.Combine(_root.Sub("run"), RunFolder.RunFileName), "{}");
        File.WriteAllText(Path.Combine(_root.Sub("run"), "metrics.csv"), "");
    }

    [ClassCleanup]
    public static void DeleteInputs() => _root.Dispose();

    [TestMethod]
    public void EveryOptionOfEveryCommandIsSwept()
    {
        var root = EnvNetCli.CreateRoot(new CliContext(TextWriter.Null, TextWriter.Null));
        var inTree = root.Subcommands.SelectMany(c => c.Options.Where(o => o is not HelpOption and not VersionOption).Select(o => (c.Name, o.Name))
            .Concat(c.Arguments.Select(a => (c.Name, a.Name)))).Order().ToArray();
        var swept = BadValues.Select(b => (b.Command, b.Option)).Order().ToArray();
        CollectionAssert.AreEqual(inTree, swept,
            $"options without bad values: {string.Join(", ", inTree.Except(swept))}; swept but gone: {string.Join(", ", swept.Except(inTree))}");
        TestContext.WriteLine($"{swept.Length} options and arguments of {root.Subcommands.Count} commands, {Cases.Count()} bad values");
    }

    /// <summary>Every command's --accelerator takes the same values, ilgpu-cpu included, and a refused value lists them.</summary>
    [TestMethod]
    public void AcceleratorValuesAreAcceptedAndListedByEveryCommand()
    {
        foreach (var value in CommonOptions.AcceleratorValues.Split('|'))
        {
            var errors = new List<string>();
            Assert.IsNotNull(TrainOptionsValidator.ParseAccelerator(value, errors), value);
            Assert.IsEmpty(errors, value);
        }
        var refused = new List<string>();
        TrainOptionsValidator.ParseAccelerator("tpu", refused);
        Assert.AreEqual("--accelerator: expected one of auto, cpu, cuda, ilgpu-cpu, opencl; got 'tpu'.", refused.Single());
        Assert.AreEqual(AcceleratorChoice.IlgpuCpu, TrainOptionsValidator.ParseAccelerator("ilgpu-cpu", []));
        var root = EnvNetCli.CreateRoot(new CliContext(TextWriter.Null, TextWriter.Null));
        var withAccelerator = root.Subcommands.Where(c => c.Options.Any(o => o.Name == "--accelerator")).Select(c => c.Name).Order().ToArray();
        CollectionAssert.AreEqual(new[] { "bench", "evaluate", "freqresp", "predict", "selfcheck", "train" }, withAccelerator);
        foreach (var command in withAccelerator)
            StringAssert.Contains(Cli(command, "--help").Out, "ilgpu-cpu", $"envnet {command} --help");
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void BadValueIsRefusedWithOneLineNamingTheOptionAndExitCode2(string command, string option, string value)
    {
        var outDir = _root.Sub($"out-{Interlocked.Increment(ref _case)}");
        var bad = value.Replace("{file}", _root.Sub("file")).Replace("{empty}", _root.Sub("empty"));
        var args = ValidArguments(command).Select(a => a == "{out}" ? outDir : a).ToList();
        if (!option.StartsWith("--", StringComparison.Ordinal)) // an argument: RUN_DIR, CHECKPOINT, COMMAND
            args[0] = bad;
        else if (value == Flag)
            args.Add(option + Flag);
        else
        {
            var at = args.IndexOf(option);
            if (at >= 0) args.RemoveRange(at, 2);
            if (option == "--folds") args.RemoveRange(args.IndexOf("--fold"), 2); // one or the other
            args.AddRange([option, bad]);
        }

        var run = Task.Run(() => Cli([command, .. args]));
        Assert.IsTrue(run.Wait(TimeSpan.FromSeconds(60)), $"envnet {command} {string.Join(" ", args)}: still running after 60 s instead of refusing");
        var (code, output, error) = run.Result;

        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(ExitCodes.Usage, code, error);
        Assert.HasCount(1, lines, error);
        StringAssert.StartsWith(lines[0], $"error: {option}");
        Assert.AreEqual("", output);
        Assert.IsFalse(File.Exists(Path.Combine(outDir, RunFolder.RunFileName)), "no run was started");
    }
}
