using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Training.Run;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;

namespace EnvNet.Tests;

[TestClass]
public sealed class TrainingCheckpointTests
{
    private const int Classes = 3;
    private const int Batch = 4;

    private static readonly CheckpointInfo Info = new("envnet-tiny", "esc50", ["dog", "rain", "saw"], Fold: 2, Epoch: 7, Seed: 11, ValidationAccuracy: 0.5);

    private static (float[] Inputs, float[] Targets) Examples(ModelConfig config, int seed)
    {
        var rng = new Random(seed);
        var inputs = Enumerable.Range(0, Batch * config.InputLength).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var targets = new float[Batch * config.Classes];
        for (var i = 0; i < Batch; i++) targets[i * config.Classes + i % config.Classes] = 1;
        return (inputs, targets);
    }

    /// <summary>A tiny model after one SGD step, so momentum, BatchNorm statistics and the step counter are not at their initial values.</summary>
    private static NetworkModel TrainedModel(int seed = 1, KernelChoice kernels = KernelChoice.Plain, VectorWidth? width = null)
    {
        var model = NetworkModel.Create(TestDevice.For(kernels, width), EnvNetConfig.ByName("envnet-tiny", Classes), Batch, seed);
        var (inputs, targets) = Examples(model.Config, 100);
        model.TrainStep(inputs, targets, Batch, 0.01f, 0.9f, 5e-4f);
        return model;
    }

    private static float[] Logits(NetworkModel model)
    {
        var logits = new float[Batch * Classes];
        model.PredictLogits(Examples(model.Config, 7).Inputs, Batch, logits);
        return logits;
    }

    /// <summary>The state_dict of the PyTorch EnvNet (bench/reference/envnet_reference.py) built with envnet-tiny's
    /// sizes: ConvBlock = Sequential(Conv2d(bias=False), BatchNorm2d, ReLU) as "module", LinearBlock =
    /// Sequential(Linear, ReLU, Dropout).</summary>
    private static readonly (string Name, string DType, int[] Shape)[] PyTorchStateDict =
    [
        .. ConvBlock("feature_conv.conv1", [8, 1, 1, 32]),
        .. ConvBlock("feature_conv.conv2", [16, 8, 1, 4]),
        .. ConvBlock("classifier.conv3", [8, 1, 4, 5]),
        .. ConvBlock("classifier.conv4", [16, 8, 1, 3]),
        ("classifier.fc5.module.0.weight", "F32", [256, 256]), ("classifier.fc5.module.0.bias", "F32", [256]),
        ("classifier.fc6.module.0.weight", "F32", [256, 256]), ("classifier.fc6.module.0.bias", "F32", [256]),
        ("classifier.fc7.weight", "F32", [Classes, 256]), ("classifier.fc7.bias", "F32", [Classes]),
    ];

    private static IEnumerable<(string, string, int[])> ConvBlock(string name, int[] weight) =>
    [
        ($"{name}.module.0.weight", "F32", weight),
        ($"{name}.module.1.weight", "F32", [weight[0]]), ($"{name}.module.1.bias", "F32", [weight[0]]),
        ($"{name}.module.1.running_mean", "F32", [weight[0]]), ($"{name}.module.1.running_var", "F32", [weight[0]]),
        ($"{name}.module.1.num_batches_tracked", "I64", []),
    ];

    [TestMethod]
    public void SaveWritesThePyTorchStateDictNamesShapesAndDtypesAndReadsBackTheSameLogits()
    {
        using var dir = new TempDir();
        var path = dir.Sub("best.safetensors");
        using var trained = TrainedModel();
        ModelCheckpoint.Save(path, trained, Info);

        var (info, content) = ModelCheckpoint.Read(path);
        CollectionAssert.AreEqual(
            PyTorchStateDict.Select(e => $"{e.Name} {e.DType} [{string.Join(",", e.Shape)}]").ToArray(),
            content.Tensors.Select(t => $"{t.Name} {t.DType} [{string.Join(",", t.Shape)}]").ToArray());
        Assert.AreEqual(1L, content["feature_conv.conv1.module.1.num_batches_tracked"].ToInt64());
        Assert.AreEqual(Info with { ClassNames = info.ClassNames }, info);
        CollectionAssert.AreEqual(Info.ClassNames.ToArray(), info.ClassNames.ToArray());
        Assert.AreEqual("pt", content.Metadata["format"]);

        var (loaded, _) = ModelCheckpoint.LoadModel(path, TestDevice.Cpu, Batch);
        using (loaded)
        {
            CollectionAssert.AreEqual(Logits(trained), Logits(loaded));
            Assert.AreEqual(1L, ((CounterState)loaded.StateDict.First(e => e.Name.EndsWith("num_batches_tracked"))).Get());
        }
    }

    /// <summary>Weights, BatchNorm buffers, momentum and the step counter (which drives dropout) are all a run needs:
    /// a model restored from a checkpoint takes the next step exactly as the original does.</summary>
    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void TrainingCheckpointRestoredModelContinuesBitIdentically(KernelChoice kernels, VectorWidth? width)
    {
        using var dir = new TempDir();
        using var original = TrainedModel(seed: 1, kernels, width);
        var progress = new TrainingProgress(Fold: 2, Epoch: 7, Step: original.Step, Seed: 11, BestAccuracy: 0.5, BestEpoch: 6,
            Partial: new PartialEpoch(3, 1.25, 5, 12, 0.5));
        TrainingCheckpoint.Save(dir.Path, original, Info, progress);

        using var restored = NetworkModel.Create(TestDevice.For(kernels, width), original.Config, Batch, seed: 1);
        Assert.AreEqual(progress, TrainingCheckpoint.TryLoad(dir.Path, restored, fold: 2, seed: 11));
        Assert.AreEqual(original.Step, restored.Step);

        var (inputs, targets) = Examples(original.Config, 200);
        var a = original.TrainStep(inputs, targets, Batch, 0.01f, 0.9f, 5e-4f);
        var b = restored.TrainStep(inputs, targets, Batch, 0.01f, 0.9f, 5e-4f);
        Assert.AreEqual(a, b);
        CollectionAssert.AreEqual(Logits(original), Logits(restored));
        Assert.IsNull(TrainingCheckpoint.TryLoad(dir.Sub("empty"), restored, 2, 11), "no checkpoint yet: a fresh fold");
    }

    [TestMethod]
    public void TrainingCheckpointKilledBetweenTheTwoRenamesIsCompletedOnLoad()
    {
        using var dir = new TempDir();
        using var model = TrainedModel();
        var statePath = Path.Combine(dir.Path, RunFolder.StateFileName);
        TrainingCheckpoint.Save(dir.Path, model, Info, TrainingProgress.Start(2, 11) with { Epoch = 1, Step = model.Step });
        var epochOneState = File.ReadAllBytes(statePath);
        var (inputs, targets) = Examples(model.Config, 300);
        model.TrainStep(inputs, targets, Batch, 0.01f, 0.9f, 5e-4f);
        TrainingCheckpoint.Save(dir.Path, model, Info, TrainingProgress.Start(2, 11) with { Epoch = 2, Step = model.Step });
        // As if killed after the weights rename: epoch 2's state still in its temporary file, epoch 1's in place.
        File.Move(statePath, AtomicFile.TemporaryPath(statePath));
        File.WriteAllBytes(statePath, epochOneState);

        using var restored = NetworkModel.Create(TestDevice.Cpu, model.Config, Batch, seed: 1);
        Assert.AreEqual(2, TrainingCheckpoint.TryLoad(dir.Path, restored, 2, 11)!.Epoch);
        Assert.IsFalse(File.Exists(AtomicFile.TemporaryPath(statePath)));
        CollectionAssert.AreEqual(Logits(model), Logits(restored));

        // Without the temporary file the pair cannot be trusted.
        File.WriteAllBytes(statePath, epochOneState);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointException>(() => TrainingCheckpoint.TryLoad(dir.Path, restored, 2, 11)).Message,
            "does not belong to");
    }

    [TestMethod]
    public void LoadRefusesDamagedWrongShapedAndForeignCheckpoints()
    {
        using var dir = new TempDir();
        var path = dir.Sub("last.safetensors");
        using var model = TrainedModel();
        ModelCheckpoint.Save(path, model, Info);
        var bytes = File.ReadAllBytes(path);

        string Refusal(string name, byte[] content, NetworkModel target)
        {
            var file = dir.Sub(name);
            File.WriteAllBytes(file, content);
            return Assert.ThrowsExactly<CheckpointException>(() => ModelCheckpoint.Load(SafeTensors.ReadFile(file), file, target)).Message;
        }

        StringAssert.Contains(Refusal("truncated.safetensors", bytes[..(bytes.Length / 2)], model), "truncated");
        var flipped = (byte[])bytes.Clone();
        flipped[^100] ^= 1;
        StringAssert.Contains(Refusal("flipped.safetensors", flipped, model), "checksum mismatch");

        // A well-formed file (valid checksum) whose first convolution is stored transposed.
        var original = SafeTensors.ReadFile(path);
        var transposed = original.Tensors.Select(t => t.Name == "feature_conv.conv1.module.0.weight" ? t with { Shape = [8, 1, 32, 1] } : t).ToList();
        using (var stream = new MemoryStream())
        {
            SafeTensors.Write(stream, transposed, original.Metadata);
            StringAssert.Contains(Refusal("transposed.safetensors", stream.ToArray(), model),
                "tensor 'feature_conv.conv1.module.0.weight' has shape [8,1,32,1], envnet-tiny expects [8,1,1,32]");
        }

        using var otherClasses = NetworkModel.Create(TestDevice.Cpu, EnvNetConfig.ByName("envnet-tiny", 5), Batch, 1);
        StringAssert.Contains(Refusal("classes.safetensors", bytes, otherClasses), "'classifier.fc7.weight' has shape [3,256], envnet-tiny expects [5,256]");
        using var otherModel = NetworkModel.Create(TestDevice.Cpu, EnvNetConfig.ByName("envnet-v2-tiny", Classes), Batch, 1);
        StringAssert.Contains(Refusal("model.safetensors", bytes, otherModel), "holds a 'envnet-tiny' model, expected 'envnet-v2-tiny'");
    }
}
