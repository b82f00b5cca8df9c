using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EnvNet.Esc50Dataset;
using EnvNet.Network;
using EnvNet.Training.Run;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Commands;
using EnvNet.Training.Results;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// What <c>envnet train</c> does when things go wrong (docs/reliability.md): a diverging loss, the accelerator out of
/// memory, too little disk for the checkpoints, damaged or foreign checkpoint files, a write cut short. The runs are
/// <see cref="TinyTrainingRun"/>'s: its finished run is copied and altered, or a fresh one started with its recipe.
/// </summary>
[TestClass]
public sealed class TrainingFaultTests
{
    private const int Classes = TinyTrainingRun.Classes;
    private const int Finished = TinyTrainingRun.Epochs; // the epochs of the finished run

    private static TempDir _root = null!;
    private static string Data => TinyTrainingRun.Data;
    private static string Cache => TinyTrainingRun.Cache;

    [ClassInitialize]
    public static void CreateScratch(TestContext _) => _root = new TempDir();

    [ClassCleanup]
    public static void DeleteScratch() => _root.Dispose();

    /// <summary>A fresh run of the tiny recipe with some options given other values.</summary>
    private static string[] FreshRun(string run, params (string Option, string Value)[] changed)
    {
        var recipe = TinyTrainingRun.Recipe.ToList();
        foreach (var (option, value) in changed)
        {
            var at = recipe.IndexOf(option);
            if (at >= 0) recipe[at + 1] = value;
            else recipe.AddRange([option, value]);
        }
        return ["train", "--data", Data, "--out", run, "--cache", Cache, .. recipe];
    }

    [TestMethod]
    public void AbsurdLearningRateStopsAtTheFirstNonFiniteLossWithoutWritingACheckpoint()
    {
        var run = _root.Sub("absurd");
        var (code, _, _) = Cli(FreshRun(run, ("--lr", "1e30")));

        Assert.AreEqual(ExitCodes.Diverged, code);
        var message = LastError(run);
        StringAssert.Matches(message, new Regex(@"^training diverged at fold 1, epoch 1, batch 2 of 2: the loss is (NaN|-?∞|-?Infinity) \(learning rate 1E\+30\)\. "));
        StringAssert.Contains(message, "The fold had no checkpoint yet and none was written. Restart the fold with a smaller --lr.");
        Assert.IsFalse(File.Exists(Path.Combine(run, "fold-1", RunFolder.WeightsFileName)));
        Assert.IsFalse(File.Exists(Path.Combine(run, RunFolder.MetricsFileName)));
    }

    /// <summary>Epochs 1 and 2 trained at a sane rate, epoch 3 at an absurd one (set in run.json, which --resume
    /// reads): training stops in epoch 3 and epoch 2's checkpoint files are left byte for byte as they were.</summary>
    [TestMethod]
    public void DivergingAfterGoodEpochsKeepsTheLastGoodCheckpointUnchanged()
    {
        var run = CopyOfFinishedRun("diverged", epochs: Finished + 1, learningRate: 1e30);
        var before = CheckpointBytes(run);

        var (code, _, _) = Cli("train", "--resume", "--out", run);

        Assert.AreEqual(ExitCodes.Diverged, code);
        var message = LastError(run);
        StringAssert.StartsWith(message, $"training diverged at fold 1, epoch {Finished + 1}, batch ");
        StringAssert.Contains(message,
            $"The last good checkpoint, {Path.Combine(run, "fold-1", RunFolder.WeightsFileName)} after epoch {Finished}, is kept unchanged.");
        foreach (var (file, bytes) in before)
            CollectionAssert.AreEqual(bytes, File.ReadAllBytes(file), file);
        Assert.AreEqual(Finished, ModelCheckpoint.Read(Path.Combine(run, "fold-1", RunFolder.WeightsFileName)).Info.Epoch);
        CollectionAssert.AreEqual(Enumerable.Range(1, Finished).ToArray(),
            MetricsFile.Read(Path.Combine(run, RunFolder.MetricsFileName)).Select(r => r.Epoch).ToArray());
    }

    /// <summary>A batch no host can hold (2^31 inputs of 8040 samples are 64 TiB): refused before anything is
    /// allocated, by the estimate against the host's memory, with the message of an allocation failure.</summary>
    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void DeviceOutOfMemoryNamesTheBatchAndTheMemoryATrainingStepNeeds()
    {
        var run = _root.Sub("huge-batch");
        var (code, _, _) = Cli(FreshRun(run, ("--batch", $"{int.MaxValue}")));

        Assert.AreEqual(ExitCodes.DeviceOutOfMemory, code);
        var needed = NetworkModel.EstimateTrainingBytes(EnvNetConfig.ByName("envnet-tiny", Classes), int.MaxValue);
        var message = LastError(run);
        StringAssert.StartsWith(message, $"out of memory on CPU CPUAccelerator with --batch {int.MaxValue}: envnet-tiny needs about {(needed + (1 << 20) - 1) >> 20} MiB");
        StringAssert.EndsWith(message, "Use a smaller --batch.");
    }

    /// <summary>Each accelerator's way of saying "out of memory" is recognised, also wrapped in another exception.
    /// CUDA's (CudaException with CUDA_ERROR_OUT_OF_MEMORY) cannot be constructed without a CUDA driver.</summary>
    [TestMethod]
    public void OutOfMemoryErrorsOfTheAcceleratorsAreRecognised()
    {
        foreach (var error in new[] { CLError.CL_MEM_OBJECT_ALLOCATION_FAILURE, CLError.CL_OUT_OF_RESOURCES, CLError.CL_OUT_OF_HOST_MEMORY })
            Assert.IsTrue(DeviceOutOfMemoryException.IsOutOfMemory(new CLException(error), AcceleratorType.OpenCL), $"{error}");
        Assert.IsFalse(DeviceOutOfMemoryException.IsOutOfMemory(new CLException(CLError.CL_INVALID_VALUE), AcceleratorType.OpenCL));
        Assert.IsFalse(DeviceOutOfMemoryException.IsOutOfMemory(new OutOfMemoryException(), AcceleratorType.Cuda), "host memory is not the GPU's");

        var allocation = Assert.Throws<Exception>(() => TestDevice.Cpu.Accelerator.Allocate1D<float>(1L << 60));
        Assert.IsTrue(DeviceOutOfMemoryException.IsOutOfMemory(allocation, AcceleratorType.CPU), allocation.ToString());
        Assert.IsTrue(DeviceOutOfMemoryException.IsOutOfMemory(new InvalidOperationException("layer build", allocation), AcceleratorType.CPU));
    }

    /// <summary>The estimate behind the free-space check covers what a run writes, and the check refuses a folder
    /// without that much room.</summary>
    [TestMethod]
    public void CheckpointSpaceEstimateCoversTheFilesAndTheCheckRefusesTooLittleRoom()
    {
        var fold = Path.Combine(TinyTrainingRun.Finished, "fold-1");
        long Size(string file) => new FileInfo(Path.Combine(fold, file)).Length;
        var written = Size(RunFolder.WeightsFileName) + Size(RunFolder.StateFileName) + Size(RunFolder.BestFileName);
        var temporaries = Size(RunFolder.WeightsFileName) + Size(RunFolder.StateFileName);
        var estimate = TrainingCheckpoint.EstimateRunBytes(EnvNetConfig.ByName("envnet-tiny", Classes), folds: 1);
        Assert.IsGreaterThanOrEqualTo(written + temporaries, estimate);

        var free = new DriveInfo(_root.Path).AvailableFreeSpace;
        Assert.IsNull(OptionChecks.FreeSpace("--out", _root.Path, 1, "checkpoints"));
        var refusal = OptionChecks.FreeSpace("--out", _root.Path, free + (1L << 30), "the checkpoints of 5 fold(s) of envnet");
        StringAssert.StartsWith(refusal, "--out: expected a folder with ");
        StringAssert.Contains(refusal, $"MiB free for the checkpoints of 5 fold(s) of envnet; '{_root.Path}' has ");
    }

    /// <summary>
    /// A damaged or foreign last checkpoint is refused when the run resumes (exit 1, one message naming the file and
    /// the problem) and by evaluate; the refused file is left as it was, so nothing good is lost.
    /// </summary>
    [TestMethod]
    [DataRow("truncated", RunFolder.WeightsFileName, "truncated")]
    [DataRow("flipped data byte", RunFolder.WeightsFileName, "checksum mismatch")]
    [DataRow("wrong-shaped tensor", RunFolder.WeightsFileName, "tensor 'classifier.fc7.weight' has shape [256,2], envnet-tiny expects [2,256]")]
    [DataRow("another model", RunFolder.WeightsFileName, "holds a 'envnet-v2-tiny' model, expected 'envnet-tiny'")]
    [DataRow("not an envnet file", RunFolder.WeightsFileName, "metadata has no 'sha256' checksum; it was not written by envnet")]
    [DataRow("flipped data byte", RunFolder.StateFileName, "checksum mismatch")]
    public void DamagedCheckpointIsRefusedOnResumeAndByEvaluateAndKept(string damage, string file, string expected)
    {
        var run = CopyOfFinishedRun($"{damage}-{file}".Replace(' ', '-'), epochs: Finished + 1, learningRate: null);
        var path = Path.Combine(run, "fold-1", file);
        File.WriteAllBytes(path, Damaged(File.ReadAllBytes(path), damage));
        var damagedBytes = File.ReadAllBytes(path);

        var (code, _, _) = Cli("train", "--resume", "--out", run);

        Assert.AreEqual(ExitCodes.Failure, code);
        var message = LastError(run);
        StringAssert.StartsWith(message, path);
        StringAssert.Contains(message, expected);
        CollectionAssert.AreEqual(damagedBytes, File.ReadAllBytes(path), "the refused file is not overwritten");
        Assert.AreEqual(Finished, MetricsFile.Read(Path.Combine(run, RunFolder.MetricsFileName)).Count);

        if (file != RunFolder.WeightsFileName || damage == "another model") return; // evaluate reads any envnet model
        var (evaluateCode, output, error) = Cli("evaluate", "--checkpoint", path, "--data", Data, "--cache", Cache, "--accelerator", "cpu", "--out", run);
        Assert.AreEqual(ExitCodes.Failure, evaluateCode, output);
        Assert.AreEqual(1, error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, error);
        StringAssert.StartsWith(error, $"error: {path}");
        StringAssert.Contains(error, expected);
    }

    /// <summary>A write that fails half way (disk full, I/O error) leaves the previous file whole: the new content
    /// only ever replaces it by a rename once complete.</summary>
    [TestMethod]
    public void WriteFailingHalfWayLeavesThePreviousCheckpointWhole()
    {
        var path = Path.Combine(CopyOfFinishedRun("half-written", epochs: Finished, learningRate: null), "fold-1", RunFolder.WeightsFileName);
        var good = File.ReadAllBytes(path);

        Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(good.AsSpan(0, good.Length / 2));
            throw new IOException("No space left on device");
        }));

        CollectionAssert.AreEqual(good, File.ReadAllBytes(path));
        Assert.AreEqual(Finished, ModelCheckpoint.Read(path).Info.Epoch);
    }

    private static byte[] Damaged(byte[] bytes, string damage)
    {
        switch (damage)
        {
            case "truncated":
                return bytes[..(bytes.Length * 2 / 3)];
            case "flipped data byte":
                var flipped = bytes.ToArray();
                flipped[^10] ^= 0x40;
                return flipped;
            case "wrong-shaped tensor":
                // Well formed with a valid checksum: only the shape disagrees with the model.
                var content = SafeTensors.Read(new MemoryStream(bytes), "last");
                return Written(content.Tensors.Select(t => t.Name == "classifier.fc7.weight" ? t with { Shape = [256, Classes] } : t).ToList(), content.Metadata);
            case "another model":
                using (var other = NetworkModel.Create(TestDevice.Cpu, EnvNetConfig.ByName("envnet-v2-tiny", Classes), maxBatch: 1, seed: 1))
                {
                    var info = new CheckpointInfo("envnet-v2-tiny", "esc50", ["dog", "rooster"], Fold: 1, Epoch: 1, Seed: 1, ValidationAccuracy: 0.5);
                    return Written(ModelCheckpoint.StateTensors(other), ModelCheckpoint.Metadata(info, other.Config));
                }
            case "not an envnet file":
                // A safetensors file as any other library writes it: one tensor, no envnet metadata, no checksum.
                var header = """{"weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"""u8.ToArray();
                return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[8]];
            default:
                throw new ArgumentException(damage);
        }
    }

    private static byte[] Written(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    /// <summary>A copy of the finished run to damage, with run.json asking for more epochs (and another learning
    /// rate): --resume takes its options from there.</summary>
    private static string CopyOfFinishedRun(string name, int epochs, double? learningRate)
    {
        var run = _root.Sub(name);
        foreach (var source in Directory.EnumerateFiles(TinyTrainingRun.Finished, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(run, Path.GetRelativePath(TinyTrainingRun.Finished, source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
        var runFile = Path.Combine(run, RunFolder.RunFileName);
        var options = JsonNode.Parse(File.ReadAllText(runFile))!;
        options["outDir"] = run;
        options["epochs"] = epochs;
        if (learningRate is { } rate) options["learningRate"] = rate;
        File.WriteAllText(runFile, options.ToJsonString());
        return run;
    }

    private static Dictionary<string, byte[]> CheckpointBytes(string run) =>
        Directory.EnumerateFiles(Path.Combine(run, "fold-1"), "*.safetensors").ToDictionary(f => f, File.ReadAllBytes);
}
