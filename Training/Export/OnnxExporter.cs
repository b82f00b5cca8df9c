using System.Globalization;
using System.Reflection;
using System.Text.Json;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Commands;
using EnvNet.Training.Run;
using Google.Protobuf;
using Onnx;

namespace EnvNet.Training.Export;

/// <summary>
/// Writes a trained model as an ONNX file in inference form (BatchNormalization with the running statistics,
/// dropout left out): input <see cref="InputName"/> (batch, input_length) float32 waveforms at the model's sample
/// rate, output <see cref="OutputName"/> (batch, classes). What a deployment needs beside the graph (class names,
/// sample rate, input length, the test-crop recipe, the run's options) goes into metadata_props under the keys of
/// <see cref="OnnxMetadataKeys"/>.
/// </summary>
public static class OnnxExporter
{
    public const string InputName = "waveform";
    public const string OutputName = "logits";
    public const int DefaultOpset = 17;
    /// <summary>The oldest opset whose operators take the inputs and attributes the mappings write (Reshape's shape as
    /// an input, BatchNormalization without 'spatial').</summary>
    public const int MinOpset = 9;
    /// <summary>The newest opset of the compiled onnx.proto (ONNX 1.12, IR version 8).</summary>
    public const int MaxOpset = 17;

    /// <summary>The ONNX model of <paramref name="model"/>'s layer tree, with <paramref name="metadata"/> as metadata_props.</summary>
    public static ModelProto Build(NetworkModel model, IReadOnlyDictionary<string, string> metadata, int opset, OnnxBatch batch) =>
        Build(model.Network, model.Config.Name,
            $"{model.Config.Name}: {model.Config.Classes} classes, {model.Config.InputLength} samples at {model.Config.SampleRate} Hz.",
            metadata, opset, batch);

    /// <summary>The ONNX model of a built layer tree that takes a waveform (any per-sample input shape, read as
    /// input_length samples) and gives a vector of logits per sample.</summary>
    public static ModelProto Build(Layer network, string name, string description, IReadOnlyDictionary<string, string> metadata,
        int opset, OnnxBatch batch)
    {
        if (opset is < MinOpset or > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), opset, $"Expected an ONNX opset from {MinOpset} to {MaxOpset}.");
        if (network.OutputShape.Length != 1)
            throw new ArgumentException($"ONNX export: '{name}' outputs {ShapeUtil.Format(network.OutputShape)} per sample, expected a vector of logits.");
        var inputLength = checked((int)ShapeUtil.Elements(network.InputShape));
        var classes = network.OutputShape[0];
        var graph = new OnnxGraphBuilder(name);
        graph.UniqueName(InputName);
        graph.Graph.Input.Add(OnnxGraphBuilder.FloatValue(InputName, batch, inputLength));

        // (batch, L) → (batch, ...) with the per-sample shape the first layer was built for, e.g. (batch, 1, 1, L).
        var shape = graph.AddInt64Initializer("waveform_shape", [-1, .. network.InputShape.Select(d => (long)d)]);
        var reshaped = graph.AddNode("Reshape", "waveform_reshaped", [InputName, shape]);
        var last = OnnxLayerMappings.Map(network, "", reshaped, graph);

        // The last layer's node writes the graph output directly.
        var producer = graph.Graph.Node.Last(n => n.Output.Contains(last));
        producer.Output[producer.Output.IndexOf(last)] = OutputName;
        graph.Graph.Output.Add(OnnxGraphBuilder.FloatValue(OutputName, batch, classes));

        var onnx = new ModelProto
        {
            IrVersion = (long)Onnx.Version.IrVersion,
            ProducerName = "envnet",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            DocString = $"{description} Input '{InputName}': (batch, {inputLength}) float32 samples; output '{OutputName}': " +
                        $"(batch, {classes}). See metadata_props for class names and the test-crop recipe.",
            Graph = graph.Graph,
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        foreach (var (key, value) in metadata) onnx.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return onnx;
    }

    /// <summary>Exports the checkpoint at <paramref name="checkpointPath"/> to <paramref name="onnxPath"/> (written
    /// atomically). The run's options come from the run.json of the run folder holding the checkpoint (fold-K/..),
    /// when there is one. Returns the model's config and the metadata written.</summary>
    public static (ModelConfig Config, IReadOnlyDictionary<string, string> Metadata) Export(
        string checkpointPath, string onnxPath, int opset, OnnxBatch batch)
    {
        var options = ReadRunOptions(checkpointPath);
        using var device = ComputeDevice.Create(AcceleratorChoice.Cpu);
        var (model, info) = ModelCheckpoint.LoadModel(checkpointPath, device, maxBatch: 1);
        using (model)
        {
            // The checksum of the loaded tensors is the one the file carries (LoadModel verified it).
            var sha256 = SafeTensors.Checksum(ModelCheckpoint.StateTensors(model));
            var metadata = Metadata(info, model.Config, options?.TestCrops ?? ModelRegistry.Definition(info.Model).Recipe.TestCrops, sha256, options?.Json);
            var onnx = Build(model, metadata, opset, batch);
            AtomicFile.Write(onnxPath, stream => onnx.WriteTo(stream));
            return (model.Config, metadata);
        }
    }

    /// <summary>metadata_props of an export: the model, its input and classes, the test-crop recipe and the run.</summary>
    public static Dictionary<string, string> Metadata(CheckpointInfo info, ModelConfig config, int testCrops,
        string checkpointSha256, string? trainingOptionsJson)
    {
        var metadata = new Dictionary<string, string>
        {
            [OnnxMetadataKeys.Model] = info.Model,
            [OnnxMetadataKeys.ClassNames] = JsonSerializer.Serialize(info.ClassNames),
            [OnnxMetadataKeys.SampleRate] = Invariant(config.SampleRate),
            [OnnxMetadataKeys.InputLength] = Invariant(config.InputLength),
            [OnnxMetadataKeys.TestCrops] = Invariant(testCrops),
            [OnnxMetadataKeys.TestCropRecipe] =
                $"Average the clip's channels to mono, cut its leading and trailing exact zeros, resample it to sample_rate Hz " +
                $"and keep it within [-1, 1]; pad input_length/2 zeros before and after it; take test_crops " +
                $"windows of input_length samples starting at i*floor((padded_length - input_length)/(test_crops - 1)) " +
                $"(for i = 0 .. test_crops - 1, so a short clip repeats windows); average the softmax of their logits; the class " +
                $"of highest mean probability is the prediction.",
            [OnnxMetadataKeys.Subset] = info.Subset,
            [OnnxMetadataKeys.Fold] = Invariant(info.Fold),
            [OnnxMetadataKeys.Epoch] = Invariant(info.Epoch),
            [OnnxMetadataKeys.Seed] = Invariant(info.Seed),
            [OnnxMetadataKeys.ValidationAccuracy] = info.ValidationAccuracy.ToString("R", CultureInfo.InvariantCulture),
            [OnnxMetadataKeys.CheckpointSha256] = checkpointSha256,
        };
        if (trainingOptionsJson is not null) metadata[OnnxMetadataKeys.TrainingOptions] = trainingOptionsJson;
        return metadata;
    }

    /// <summary>The options of the run a checkpoint belongs to (RUN/fold-K/FILE → RUN/run.json), or null for a
    /// checkpoint outside a run folder.</summary>
    private static (int TestCrops, string Json)? ReadRunOptions(string checkpointPath)
    {
        var runFolder = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(checkpointPath)));
        var runFile = runFolder is null ? null : Path.Combine(runFolder, RunFolder.RunFileName);
        if (runFile is null || !File.Exists(runFile)) return null;
        var json = File.ReadAllText(runFile);
        return (TrainOptions.FromJson(json, runFile).TestCrops, json); // a bad run.json: an InvalidDataException naming it and the field
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The metadata_props keys of an envnet ONNX export.</summary>
public static class OnnxMetadataKeys
{
    public const string Model = "model";
    /// <summary>JSON array of the class names, in the order of the logits.</summary>
    public const string ClassNames = "class_names";
    public const string SampleRate = "sample_rate";
    public const string InputLength = "input_length";
    /// <summary>How many test crops the run validated with: what <c>envnet predict</c> averages.</summary>
    public const string TestCrops = "test_crops";
    /// <summary>The test-crop recipe in words, for a deployment that reimplements it.</summary>
    public const string TestCropRecipe = "test_crop_recipe";
    /// <summary>The classes trained on: esc50 or esc10 for ESC-50, else the dataset's kind (urbansound8k, folders, csv),
    /// as the run's <c>TrainOptions.ClassSetName</c>; the names themselves are <see cref="ClassNames"/>.</summary>
    public const string Subset = "subset";
    public const string Fold = "fold";
    public const string Epoch = "epoch";
    public const string Seed = "seed";
    public const string ValidationAccuracy = "validation_accuracy";
    /// <summary>The checksum of the checkpoint's data section (its own "sha256" metadata).</summary>
    public const string CheckpointSha256 = "checkpoint_sha256";
    /// <summary>The run's run.json, where the checkpoint was found inside a run folder.</summary>
    public const string TrainingOptions = "training_options";
}
