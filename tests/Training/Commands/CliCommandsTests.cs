using System.CommandLine;
using System.Text.Json;
using EnvNet.Esc50Dataset;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Run;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Commands;
using EnvNet.Training.Results;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>The commands a user meets in their first hour: help, batch predict, info and the cache, on a synthetic
/// data set and an untrained checkpoint (what the model predicts does not matter here, only what is printed).</summary>
[TestClass]
public sealed class CliCommandsTests
{
    private static TempDir _root = null!;
    private static IReadOnlyList<string> _classNames = null!;

    private static string Data => _root.Sub("data");
    private static string Checkpoint => _root.Sub("tiny.safetensors");
    private static string[] Wavs => Directory.EnumerateFiles(Path.Combine(Data, "audio"), "*.wav").Order(StringComparer.Ordinal).ToArray();

    [ClassInitialize]
    public static void WriteInputs(TestContext _)
    {
        _root = new TempDir();
        SyntheticEsc50.Write(Data, classes: 2, clipsPerClassPerFold: 1, seed: 3);
        _classNames = Esc50Metadata.Load(Data).ClassNames;
        var options = new TrainOptions { DataDir = Data, OutDir = _root.Sub("run"), CacheDir = _root.Sub("cache"), Model = "envnet-tiny", Epochs = 9 };
        using var model = NetworkModel.Create(TestDevice.Cpu, ModelRegistry.Config("envnet-tiny", 2), maxBatch: 1, seed: 1);
        ModelCheckpoint.Save(Checkpoint, model, new CheckpointInfo("envnet-tiny", "esc50", _classNames, Fold: 2, Epoch: 9, Seed: 1,
            ValidationAccuracy: 0.5, BestEpoch: 7, BestValidationAccuracy: 0.75, TrainingOptions: options.ToJson()));
    }

    [ClassCleanup]
    public static void DeleteInputs() => _root.Dispose();

    [TestMethod]
    public void HelpIsTheRootOrTheCommandsHelp()
    {
        var (code, output, error) = Cli("help");
        Assert.AreEqual(ExitCodes.Success, code, error);
        Assert.AreEqual(Cli("--help").Out, output);

        (code, output, error) = Cli("help", "train");
        Assert.AreEqual(ExitCodes.Success, code, error);
        Assert.AreEqual(Cli("train", "--help").Out, output);
        StringAssert.Contains(output, "--epochs");

        Assert.AreEqual(Cli("info", "--help").Out, Cli("help", "inspect").Out, "aliases too");
    }

    /// <summary>Defaults as System.CommandLine writes them and value names in lower case, in every command's help.</summary>
    [TestMethod]
    public void HelpTextsShowDefaultsAndValuesOneWay()
    {
        var root = EnvNetCli.CreateRoot(new CliContext(TextWriter.Null, TextWriter.Null));
        foreach (var command in root.Subcommands)
        {
            var help = Cli(command.Name, "--help").Out;
            Assert.DoesNotContain("(default", help, $"envnet {command.Name} --help");
            Assert.IsFalse(System.Text.RegularExpressions.Regex.IsMatch(help, @"\bdefault \d"), $"envnet {command.Name} --help: {help}");
            foreach (var option in command.Options.Where(o => o.Name == "--accelerator"))
                Assert.AreEqual(CommonOptions.AcceleratorValues, option.HelpName, $"envnet {command.Name} --accelerator");
            Assert.DoesNotContain("<Auto", help, $"envnet {command.Name} --help");
        }
    }

    [TestMethod]
    public void PredictClassifiesSeveralFilesAFolderAndAListWithOneModel()
    {
        var wavs = Wavs;
        var (code, output, error) = Cli("predict", "--checkpoint", Checkpoint, "--wav", wavs[0], "--wav", wavs[1], "--top", "1",
            "--test-crops", "1", "--accelerator", "cpu");
        Assert.AreEqual(ExitCodes.Success, code, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(4, lines, output);
        StringAssert.StartsWith(lines[0], $"{wavs[0]} (envnet-tiny, 1 crop)");
        StringAssert.StartsWith(lines[2], $"{wavs[1]} (envnet-tiny, 1 crop)");

        var list = _root.Sub("list.txt");
        File.WriteAllLines(list, ["# two clips", wavs[2], "", wavs[3]]);
        (code, output, error) = Cli("predict", "--checkpoint", Checkpoint, "--wav", Path.Combine(Data, "audio"), "--list", list,
            "--format", "csv", "--top", "2", "--test-crops", "1", "--accelerator", "cpu");
        Assert.AreEqual(ExitCodes.Success, code, error);
        lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual("file,top1,p1,top2,p2", lines[0]);
        CollectionAssert.AreEqual(wavs.Concat([wavs[2], wavs[3]]).ToArray(), lines.Skip(1).Select(l => l.Split(',')[0]).ToArray());
        Assert.IsTrue(lines.Skip(1).All(l => _classNames.Contains(l.Split(',')[1]) && _classNames.Contains(l.Split(',')[3])), output);

        (code, output, error) = Cli("predict", "--checkpoint", Checkpoint, "--wav", wavs[0], wavs[1], "--json", "--top", "2",
            "--test-crops", "1", "--accelerator", "cpu");
        Assert.AreEqual(ExitCodes.Success, code, error);
        var objects = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        CollectionAssert.AreEqual(new[] { Path.GetFullPath(wavs[0]), Path.GetFullPath(wavs[1]) }, objects.Select(o => o.GetProperty("file").GetString()).ToArray());
        Assert.IsTrue(objects.All(o => o.GetProperty("top").EnumerateArray().All(t => _classNames.Contains(t.GetProperty("class_name").GetString()!))));
    }

    /// <summary>A folder of an Ogg Vorbis, an MP3 and a WAV file: the folder scan picks up all three (the formats of
    /// <see cref="AudioDecoder.FileExtensions"/>), each is classified, and the help text names the formats.</summary>
    [TestMethod]
    public void PredictClassifiesOggAndMp3FilesOfAFolder()
    {
        var folder = Directory.CreateDirectory(_root.Sub("mixed")).FullName;
        var files = new List<string>();
        foreach (var (source, name) in new[] { (Path.Combine(AudioDecoderTests.AudioDir, AudioDecoderTests.Mp3Mono), "a.mp3"),
                     (Path.Combine(AudioDecoderTests.AudioDir, AudioDecoderTests.OggStereo), "b.OGG"), (Wavs[0], "c.wav") })
        {
            files.Add(Path.Combine(folder, name));
            File.Copy(source, files[^1]);
        }
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not audio");

        var (code, output, error) = Cli("predict", "--checkpoint", Checkpoint, "--wav", folder, "--format", "csv", "--top", "1",
            "--test-crops", "1", "--accelerator", "cpu");

        Assert.AreEqual(ExitCodes.Success, code, error);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')).ToArray();
        CollectionAssert.AreEqual(files, rows.Select(r => r[0]).ToArray(), output);
        Assert.IsTrue(rows.All(r => _classNames.Contains(r[1])), output);
        StringAssert.Contains(System.Text.RegularExpressions.Regex.Replace(Cli("predict", "--help").Out, @"\s+", " "), AudioDecoder.FormatList);
    }

    [TestMethod]
    public void PredictRefusesAListNamingAMissingFile()
    {
        var list = _root.Sub("bad-list.txt");
        File.WriteAllLines(list, [Wavs[0], _root.Sub("missing.wav")]);
        var (code, output, error) = Cli("predict", "--checkpoint", Checkpoint, "--list", list);

        Assert.AreEqual(ExitCodes.Usage, code, error);
        Assert.AreEqual($"error: --list: expected a WAV file on line 2 of '{list}'; '{_root.Sub("missing.wav")}' does not exist.", error.Trim());
        Assert.AreEqual("", output);
    }

    [TestMethod]
    public void InfoShowsModelClassesAccuracyOptionsAndParameters()
    {
        foreach (var name in new[] { "info", "inspect" })
        {
            var (code, output, error) = Cli(name, Checkpoint);

            Assert.AreEqual(ExitCodes.Success, code, error);
            StringAssert.Contains(output, "model       envnet-tiny, 16000 Hz, 8040 samples per input");
            StringAssert.Contains(output, $"parameters  {NetworkModel.CountParameters(ModelRegistry.Config("envnet-tiny", 2)):N0}");
            StringAssert.Contains(output, $"classes     2 (esc50): 0 {_classNames[0]}, 1 {_classNames[1]}");
            StringAssert.Contains(output, "fold        2");
            StringAssert.Contains(output, "validation  50.0 % at epoch 9; best 75.0 % at epoch 7");
            StringAssert.Contains(output, "epochs           9");
        }
    }

    [TestMethod]
    public void BenchPrintsEachLayerOnceAndSaysWhatTheFiguresMean()
    {
        var (code, output, error) = Cli("bench", "--model", "envnet-tiny", "--batch", "1", "--steps", "1", "--warmup", "0", "--accelerator", "cpu");

        Assert.AreEqual(ExitCodes.Success, code, error);
        var layerRows = output.Split('\n').Where(l => l.StartsWith("feature_conv.", StringComparison.Ordinal) || l.StartsWith("classifier.", StringComparison.Ordinal)).ToList();
        Assert.IsNotEmpty(layerRows);
        CollectionAssert.AllItemsAreUnique(layerRows.Select(l => l.Split(' ')[0]).ToList(), output);
        StringAssert.Contains(output, "so the layer times do not add up to the training step");
        StringAssert.Contains(output, "kernels: CPU host kernels");
        StringAssert.Contains(output, "the tiled kernels are CUDA-only");
    }

    /// <summary>A stop before anything was trained says so, rather than claiming a checkpoint and metrics: one
    /// requested from the start acts while the clips load (before run.json is written, so there is nothing to
    /// resume); one requested as the fold begins, before its first batch.</summary>
    [TestMethod]
    public void StopBeforeTheFirstBatchSaysNothingIsSaved()
    {
        using var dir = new TempDir();
        var options = new TrainOptions
        {
            DataDir = Data, OutDir = dir.Sub("run"), CacheDir = dir.Sub("cache"), Model = "envnet-tiny", Epochs = 1, Folds = [1], Batch = 4,
            TestCrops = 1, FreqRespEvery = 0, Accelerator = AcceleratorChoice.Cpu,
        };
        Directory.CreateDirectory(options.OutDir);

        var whileLoading = new MessageSink();
        using (var log = new Serilog.LoggerConfiguration().WriteTo.Sink(whileLoading).CreateLogger())
            Assert.AreEqual(TrainingOutcome.Stopped, new TrainingService(options, [], log, new CancellationToken(canceled: true)).Run());
        StringAssert.Contains(whileLoading.ToString(), $"Stopped while loading clips, before training began; {options.OutDir} holds no run to resume");
        Assert.IsFalse(File.Exists(Path.Combine(options.OutDir, RunFolder.RunFileName)));

        var beforeFirstBatch = new MessageSink();
        using var stop = new CancellationTokenSource();
        using (var log = new Serilog.LoggerConfiguration().WriteTo.Sink(beforeFirstBatch).CreateLogger())
            Assert.AreEqual(TrainingOutcome.Stopped, new TrainingService(options, [new StopAtFoldStart(stop)], log, stop.Token).Run());
        StringAssert.Contains(beforeFirstBatch.ToString(), "Stopped in fold 1 before its first batch; nothing is saved yet (no batch had finished)");
        Assert.DoesNotContain("metrics are saved", beforeFirstBatch.ToString());
        Assert.IsFalse(File.Exists(Path.Combine(options.OutDir, RunFolder.MetricsFileName)));
    }

    /// <summary>Requests the stop as the fold begins (after the clips are loaded).</summary>
    private sealed class StopAtFoldStart(CancellationTokenSource stop) : IEpochHook
    {
        public void BeforeFirstEpoch(FoldStartContext context) => stop.Cancel();

        public void AfterEpoch(EpochContext context) { }
    }

    [TestMethod]
    public void CacheListsDatasetsPerSampleRateAndClearsOne()
    {
        using var dir = new TempDir();
        var cache = dir.Sub("cache");
        var esc50 = dir.Sub("ESC-50");
        File.WriteAllBytes(Path.Combine(CacheFolder.PrepareClips(cache, esc50, 16000), "a.clip"), new byte[2048]);
        File.WriteAllBytes(Path.Combine(CacheFolder.PrepareClips(cache, esc50, 44100), "a.clip"), new byte[4096]);
        File.WriteAllBytes(Path.Combine(CacheFolder.PrepareClips(cache, Data, 16000), "b.clip"), new byte[1024]);
        File.WriteAllText(dir.Sub("cache/unrelated.txt"), "not envnet's");

        var (code, output, error) = Cli("cache", "--cache", cache);
        Assert.AreEqual(ExitCodes.Success, code, error);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("ESC-50-", StringComparison.Ordinal)).ToList();
        Assert.HasCount(2, rows, output);
        StringAssert.Contains(rows[0], "16000 Hz");
        StringAssert.EndsWith(rows[0].TrimEnd(), esc50);
        StringAssert.Contains(rows[1], "44100 Hz");

        (code, output, error) = Cli("cache", "clear", "--dataset", "ESC-50", "--cache", cache);
        Assert.AreEqual(ExitCodes.Success, code, error);
        StringAssert.Contains(output, "freed 6 KiB");
        Assert.IsFalse(Cli("cache", "--cache", cache).Out.Contains("ESC-50-"));
        Assert.IsTrue(Cli("cache", "--cache", cache).Out.Contains("data-"), "the other dataset stays");

        (code, _, error) = Cli("cache", "clear", "--dataset", "ESC-50", "--cache", cache);
        Assert.AreEqual(ExitCodes.Usage, code);
        StringAssert.StartsWith(error, "error: --dataset: expected one of data-");

        Assert.AreEqual(ExitCodes.Success, Cli("cache", "clear", "--cache", cache).Code);
        CollectionAssert.AreEqual(new[] { "unrelated.txt" }, Directory.GetFileSystemEntries(cache, "*", SearchOption.AllDirectories)
            .Where(File.Exists).Select(Path.GetFileName).ToArray(), "only what envnet wrote is removed");
    }

    /// <summary>The rendered messages of a run's log, one per line.</summary>
    private sealed class MessageSink : Serilog.Core.ILogEventSink
    {
        private readonly StringWriter _messages = new();
        private readonly Serilog.Formatting.Display.MessageTemplateTextFormatter _format = new("{Message:lj}{NewLine}"); // as on the console

        public void Emit(Serilog.Events.LogEvent logEvent) => _format.Format(logEvent, _messages);

        public override string ToString() => _messages.ToString();
    }
}
