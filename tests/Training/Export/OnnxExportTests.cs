using System.Text.Json;
using EnvNet.Training.Run;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Commands;
using EnvNet.Training.Export;
using Microsoft.ML.OnnxRuntime;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// <c>envnet export</c> against the product's own eval forward: for the registered models, a model with random weights
/// and random BatchNorm running statistics is saved as a checkpoint in a run folder, exported, and run by ONNX Runtime
/// on the same waveforms as <see cref="NetworkModel.PredictLogits"/>.
/// </summary>
[TestClass]
public sealed class OnnxExportTests
{
    private const int Batch = 3;
    private static readonly string[] ClassNames = ["dog", "rain", "sea waves", "crackling fire", "chainsaw"];

    /// <summary>Largest |ONNX − ILGPU| allowed, absolute and relative to the largest |logit|.</summary>
    private const double Tolerance = 1e-4;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>A registered model with random weights and every BatchNorm's weight, bias, running mean and running
    /// variance set to random values of their usual range: an export that used batch statistics, swapped mean and
    /// variance, dropped epsilon or the affine part would give other logits.</summary>
    internal static NetworkModel ModelWithRunningStatistics(string modelName, int seed)
    {
        // The CPU host backend, envnet's own CPU path (--accelerator cpu): quick enough for the full-size WaveMxNet models.
        var model = NetworkModel.Create(TestDevice.Host, ModelRegistry.Config(modelName, ClassNames.Length), Batch, seed);
        var rng = new Random(seed);
        var norms = model.StateDict.Where(e => e.Name.EndsWith(".running_mean", StringComparison.Ordinal))
            .Select(e => e.Name[..^"running_mean".Length]).ToHashSet();
        foreach (var entry in model.StateDict.OfType<TensorState>())
        {
            var dot = entry.Name.LastIndexOf('.') + 1;
            if (!norms.Contains(entry.Name[..dot])) continue;
            var (low, high) = entry.Name[dot..] is "running_mean" or "bias" ? (-0.2f, 0.2f) : (0.5f, 1.5f);
            entry.Tensor.CopyFrom(TestData.Uniform(rng, (int)entry.Tensor.Length, low, high));
        }
        return model;
    }

    /// <summary>Saves <paramref name="model"/> as RUN/fold-2/best.safetensors beside a run.json with 7 test crops.</summary>
    internal static string SaveInRunFolder(NetworkModel model, TempDir dir)
    {
        var foldDir = dir.Sub(Path.Combine("run", "fold-2"));
        Directory.CreateDirectory(foldDir);
        var options = new TrainOptions { DataDir = "data", OutDir = dir.Sub("run"), CacheDir = "cache", Model = model.Config.Name, TestCrops = 7 };
        File.WriteAllText(dir.Sub(Path.Combine("run", RunFolder.RunFileName)), options.ToJson());
        var checkpoint = Path.Combine(foldDir, RunFolder.BestFileName);
        ModelCheckpoint.Save(checkpoint, model, new CheckpointInfo(model.Config.Name, "esc50", ClassNames, Fold: 2, Epoch: 3, Seed: 5, ValidationAccuracy: 0.25));
        return checkpoint;
    }

    internal static float[] RunOnnx(InferenceSession session, float[] waveforms, int batch, int inputLength)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(waveforms, [batch, inputLength]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [OnnxExporter.InputName], [input], [OnnxExporter.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [TestMethod]
    [DataRow("envnet-tiny")]
    [DataRow("envnet-v2-tiny")]
    // m3, m11 and m18 are made of m5's layer kinds; m34-res adds residual blocks (OnnxLayerKindsTests) and takes
    // half a minute on 2 busy cores. All four passed this test when listed here.
    [DataRow("m5")]
    [DataRow("wavemsnet")]
    [DataRow("abdolinet")]
    public void ExportGivesTheLogitsOfPredictLogits(string modelName)
    {
        using var dir = new TempDir();
        using var model = ModelWithRunningStatistics(modelName, seed: 4);
        var checkpoint = SaveInRunFolder(model, dir);
        var onnx = dir.Sub("model.onnx");

        var (code, output, error) = Cli("export", "--checkpoint", checkpoint, "--onnx", onnx);
        Assert.AreEqual(ExitCodes.Success, code, error);
        StringAssert.Contains(output, onnx);

        var inputLength = model.Config.InputLength;
        var waveforms = TestData.Uniform(new Random(9), Batch * inputLength);
        var expected = new float[Batch * ClassNames.Length];
        model.PredictLogits(waveforms, Batch, expected);
        using var session = new InferenceSession(onnx);
        var actual = RunOnnx(session, waveforms, Batch, inputLength);

        var maxDifference = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
        var largest = expected.Max(e => Math.Abs((double)e));
        TestContext.WriteLine($"{modelName}: max |difference| {maxDifference:E2}, largest |logit| {largest:G4}, {new FileInfo(onnx).Length} bytes");
        Assert.HasCount(expected.Length, actual);
        Assert.IsGreaterThan(1e-3, largest, "logits this small would make the comparison empty");
        Assert.IsLessThanOrEqualTo(Tolerance, maxDifference, "absolute");
        Assert.IsLessThanOrEqualTo(Tolerance, maxDifference / largest, "relative to the largest logit");
    }

    [TestMethod]
    public void ExportDeclaresWaveformAndLogitsAndTheRecipeInItsMetadata()
    {
        using var dir = new TempDir();
        using var model = ModelWithRunningStatistics("envnet-tiny", seed: 6);
        var checkpoint = SaveInRunFolder(model, dir);
        var onnx = dir.Sub("model.onnx");
        Assert.AreEqual(ExitCodes.Success, Cli("export", "--checkpoint", checkpoint, "--onnx", onnx).Code);

        using var session = new InferenceSession(onnx);
        var input = session.InputMetadata.Single();
        var outputs = session.OutputMetadata.Single();
        Assert.AreEqual(OnnxExporter.InputName, input.Key);
        CollectionAssert.AreEqual(new[] { -1, model.Config.InputLength }, input.Value.Dimensions);
        Assert.AreEqual(OnnxBatch.DynamicName, input.Value.SymbolicDimensions[0]);
        Assert.AreEqual(OnnxExporter.OutputName, outputs.Key);
        CollectionAssert.AreEqual(new[] { -1, ClassNames.Length }, outputs.Value.Dimensions);

        var metadata = session.ModelMetadata.CustomMetadataMap;
        CollectionAssert.AreEqual(ClassNames, JsonSerializer.Deserialize<string[]>(metadata[OnnxMetadataKeys.ClassNames]));
        Assert.AreEqual("envnet-tiny", metadata[OnnxMetadataKeys.Model]);
        Assert.AreEqual("16000", metadata[OnnxMetadataKeys.SampleRate]);
        Assert.AreEqual("8040", metadata[OnnxMetadataKeys.InputLength]);
        Assert.AreEqual("7", metadata[OnnxMetadataKeys.TestCrops], "the run's --test-crops, from run.json");
        Assert.AreEqual("2", metadata[OnnxMetadataKeys.Fold]);
        Assert.AreEqual(ModelCheckpoint.Read(checkpoint).Content.Metadata[SafeTensors.ChecksumKey], metadata[OnnxMetadataKeys.CheckpointSha256]);
        Assert.AreEqual(7, TrainOptions.FromJson(metadata[OnnxMetadataKeys.TrainingOptions], "metadata").TestCrops);
        StringAssert.Contains(metadata[OnnxMetadataKeys.TestCropRecipe], "input_length/2 zeros");
    }

    [TestMethod]
    public void ExportWithAFixedBatchAndTheOldestOpsetRunsThatBatch()
    {
        using var dir = new TempDir();
        using var model = ModelWithRunningStatistics("envnet-v2-tiny", seed: 8);
        var checkpoint = SaveInRunFolder(model, dir);
        var onnx = dir.Sub("fixed.onnx");
        var (code, _, error) = Cli("export", "--checkpoint", checkpoint, "--onnx", onnx,
            "--batch", Batch.ToString(), "--opset", OnnxExporter.MinOpset.ToString());
        Assert.AreEqual(ExitCodes.Success, code, error);

        using var session = new InferenceSession(onnx);
        CollectionAssert.AreEqual(new[] { Batch, model.Config.InputLength }, session.InputMetadata.Single().Value.Dimensions);
        var waveforms = TestData.Uniform(new Random(2), Batch * model.Config.InputLength);
        var expected = new float[Batch * ClassNames.Length];
        model.PredictLogits(waveforms, Batch, expected);
        var actual = RunOnnx(session, waveforms, Batch, model.Config.InputLength);
        Assert.IsLessThanOrEqualTo(Tolerance, expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max());
    }

    [TestMethod]
    public void ExportOfAModelWithALayerKindWithoutMappingNamesTheLayer()
    {
        var graph = new OnnxGraphBuilder("test");
        var error = Assert.ThrowsExactly<NotSupportedException>(() =>
            OnnxLayerMappings.Map(new UnmappedLayer(), "classifier.mystery", "x", graph));
        StringAssert.Contains(error.Message, "'classifier.mystery' is a UnmappedLayer");
    }

    private sealed class UnmappedLayer : Layer
    {
        protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient) => inputShape;
        public override ILGPU.ArrayView<float> Forward(ILGPU.ArrayView<float> input, Pass pass) => input;
        public override ILGPU.ArrayView<float> Backward(ILGPU.ArrayView<float> gradOutput, Pass pass) => gradOutput;
    }
}
