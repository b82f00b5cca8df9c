using EnvNet.Kernels;
using System.Globalization;
using System.Text.Json;
using EnvNet.Network;

namespace EnvNet.Training.Checkpoints;

/// <summary>What a weights file records about the model and the run that produced it.</summary>
/// <param name="BestEpoch">The fold's epoch of best validation accuracy so far; null in files written without it.</param>
/// <param name="TrainingOptions">The run's options as in its run.json, so <c>envnet info</c> can show them.</param>
public sealed record CheckpointInfo(
    string Model, string Subset, IReadOnlyList<string> ClassNames, int Fold, int Epoch, int Seed, double ValidationAccuracy,
    int? BestEpoch = null, double? BestValidationAccuracy = null, string? TrainingOptions = null);

/// <summary>
/// Model weights as safetensors with exactly the state_dict of the PyTorch EnvNet in
/// bench/reference/envnet_reference.py: same names, shapes and order, F32 tensors and int64 scalar
/// <c>num_batches_tracked</c>, so <c>model.load_state_dict(safetensors.torch.load_file(path))</c> works with strict
/// loading. Everything else
/// (model name, class names, fold, epoch) is string metadata, which load_state_dict never sees.
/// </summary>
public static class ModelCheckpoint
{
    public static IReadOnlyList<SafeTensor> StateTensors(NetworkModel model) => ToSafeTensors(model.StateDict);

    /// <summary>State entries as safetensors: float tensors as F32, counters as I64 scalars.</summary>
    public static IReadOnlyList<SafeTensor> ToSafeTensors(IEnumerable<StateEntry> entries) =>
        entries.Select(entry => entry switch
        {
            TensorState t => SafeTensor.FromFloats(t.Name, t.Shape, ReadTensor(t.Tensor, t.Shape)),
            CounterState c => SafeTensor.FromInt64(c.Name, c.Get()),
            _ => throw new InvalidOperationException($"Unknown state entry type {entry.GetType().Name}."),
        }).ToList();

    public static Dictionary<string, string> Metadata(CheckpointInfo info, ModelConfig config)
    {
        var metadata = BaseMetadata(info, config);
        if (info.BestEpoch is { } bestEpoch) metadata["best_epoch"] = Invariant(bestEpoch);
        if (info.BestValidationAccuracy is { } best) metadata["best_validation_accuracy"] = best.ToString("R", CultureInfo.InvariantCulture);
        if (info.TrainingOptions is { } options) metadata["training_options"] = options;
        return metadata;
    }

    private static Dictionary<string, string> BaseMetadata(CheckpointInfo info, ModelConfig config) => new()
    {
        ["format"] = "pt", // what safetensors.torch expects to find
        ["model"] = info.Model,
        ["subset"] = info.Subset,
        ["classes"] = Invariant(info.ClassNames.Count),
        ["class_names"] = JsonSerializer.Serialize(info.ClassNames),
        ["sample_rate"] = Invariant(config.SampleRate),
        ["input_length"] = Invariant(config.InputLength),
        ["fold"] = Invariant(info.Fold),
        ["epoch"] = Invariant(info.Epoch),
        ["seed"] = Invariant(info.Seed),
        ["validation_accuracy"] = info.ValidationAccuracy.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Writes the weights atomically; returns the data checksum.</summary>
    public static string Save(string path, NetworkModel model, CheckpointInfo info)
    {
        var tensors = StateTensors(model);
        SafeTensors.WriteFile(path, tensors, Metadata(info, model.Config));
        return SafeTensors.Checksum(tensors);
    }

    /// <summary>Reads and verifies a weights file and the run information in its metadata.</summary>
    public static (CheckpointInfo Info, SafeTensorsContent Content) Read(string path)
    {
        var content = SafeTensors.ReadFile(path);
        return (ParseInfo(content, path), content);
    }

    public static CheckpointInfo ParseInfo(SafeTensorsContent content, string path)
    {
        int Int(string key) => int.TryParse(content.RequireMetadata(key, path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new CheckpointException($"{path}: metadata '{key}' is not an integer.");
        var classNames = JsonSerializer.Deserialize<string[]>(content.RequireMetadata("class_names", path))
            ?? throw new CheckpointException($"{path}: metadata 'class_names' is not a JSON array of strings.");
        if (classNames.Length != Int("classes"))
            throw new CheckpointException($"{path}: metadata lists {classNames.Length} class names for {Int("classes")} classes.");
        return new CheckpointInfo(
            content.RequireMetadata("model", path), content.RequireMetadata("subset", path), classNames,
            Int("fold"), Int("epoch"), Int("seed"),
            double.Parse(content.RequireMetadata("validation_accuracy", path), CultureInfo.InvariantCulture),
            content.Metadata.ContainsKey("best_epoch") ? Int("best_epoch") : null,
            content.Metadata.TryGetValue("best_validation_accuracy", out var best) ? double.Parse(best, CultureInfo.InvariantCulture) : null,
            content.Metadata.GetValueOrDefault("training_options"));
    }

    /// <summary>Creates the model a checkpoint was written for and loads its weights.</summary>
    public static (NetworkModel Model, CheckpointInfo Info) LoadModel(string path, EnvNet.Kernels.ComputeDevice device, int maxBatch)
    {
        var (info, content) = Read(path);
        if (!ModelRegistry.Contains(info.Model))
            throw new CheckpointException($"{path}: model '{info.Model}' is not one envnet knows ({ModelRegistry.UnknownModelMessage("metadata 'model'", info.Model)})");
        var config = ModelRegistry.Config(info.Model, info.ClassNames.Count);
        var model = NetworkModel.Create(device, config, maxBatch, info.Seed);
        try
        {
            Load(content, path, model);
            return (model, info);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Copies the tensors of a verified file into <paramref name="model"/>, refusing any mismatch of
    /// model name, tensor names, dtypes or shapes with a message naming the tensor.</summary>
    public static void Load(SafeTensorsContent content, string path, NetworkModel model)
    {
        var fileModel = content.RequireMetadata("model", path);
        if (fileModel != model.Config.Name)
            throw new CheckpointException($"{path}: holds a '{fileModel}' model, expected '{model.Config.Name}'.");

        var byName = content.Tensors.ToDictionary(t => t.Name);
        var expected = model.StateDict;
        var missing = expected.Select(e => e.Name).Where(n => !byName.ContainsKey(n)).ToList();
        var unexpected = byName.Keys.Except(expected.Select(e => e.Name)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new CheckpointException(
                $"{path}: tensors do not match {model.Config.Name}: " +
                $"missing [{string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}], " +
                $"unexpected [{string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}].");

        foreach (var entry in expected)
        {
            var tensor = byName[entry.Name];
            if (!tensor.Shape.SequenceEqual(entry.Shape))
                throw new CheckpointException(
                    $"{path}: tensor '{entry.Name}' has shape {SafeTensor.FormatShape(tensor.Shape)}, {model.Config.Name} expects {SafeTensor.FormatShape(entry.Shape)}.");
        }

        foreach (var entry in expected) CopyInto(entry, byName[entry.Name], path);
    }

    /// <summary>Copies a file's tensor into a state entry of the same name and shape: F32 into a tensor, an I64
    /// scalar into a counter.</summary>
    public static void CopyInto(StateEntry entry, SafeTensor tensor, string path)
    {
        switch (entry)
        {
            case TensorState t:
                t.Tensor.CopyFrom(RequireF32(tensor, path));
                break;
            case CounterState c:
                c.Set(tensor.DType == SafeTensorDType.I64
                    ? tensor.ToInt64()
                    : throw new CheckpointException($"{path}: tensor '{entry.Name}' is {tensor.DType}, expected an I64 scalar."));
                break;
        }
    }

    public static float[] RequireF32(SafeTensor tensor, string path) => tensor.DType == SafeTensorDType.F32
        ? tensor.ToFloats()
        : throw new CheckpointException($"{path}: tensor '{tensor.Name}' is {tensor.DType}, expected F32.");

    public static float[] ReadTensor(DeviceTensor tensor, int[] shape)
    {
        var values = new float[ShapeUtil.Elements(shape)];
        tensor.CopyTo(values);
        return values;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
