using System.Globalization;
using System.Text.Json;
using EnvNet.Esc50Dataset;
using EnvNet.Training.Export;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EnvNet.Training.Export;

/// <summary>
/// An ONNX file written by <c>envnet export</c>, run by ONNX Runtime on the CPU. Opening it checks that it is one:
/// a single float input <see cref="OnnxExporter.InputName"/> (batch, input_length), a single float output
/// <see cref="OnnxExporter.OutputName"/> (batch, classes), and the metadata that says the model, sample rate and
/// class names; anything else is refused with one line naming the file and what differs.
/// </summary>
public sealed class OnnxCropClassifier : ICropClassifier
{
    private readonly InferenceSession _session;
    private readonly int _inputLength;
    /// <summary>The batch the file was exported for, or null for a dynamic batch.</summary>
    private readonly int? _fixedBatch;

    public string Model { get; }
    public int SampleRate { get; }
    public IReadOnlyList<string> ClassNames { get; }

    public OnnxCropClassifier(string path)
    {
        try
        {
            _session = new InferenceSession(path);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: not a readable ONNX model ({FirstLine(e.Message)}).");
        }
        try
        {
            var metadata = _session.ModelMetadata.CustomMetadataMap;
            string Require(string key) => metadata.TryGetValue(key, out var value) ? value
                : throw NotAnExport(path, $"its metadata has no '{key}'");
            int RequirePositive(string key) =>
                int.TryParse(Require(key), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value
                : throw NotAnExport(path, $"its metadata '{key}' is not a positive integer");

            Model = Require(OnnxMetadataKeys.Model);
            SampleRate = RequirePositive(OnnxMetadataKeys.SampleRate);
            _inputLength = RequirePositive(OnnxMetadataKeys.InputLength);
            ClassNames = ParseClassNames(Require(OnnxMetadataKeys.ClassNames)) ?? throw NotAnExport(path, $"its metadata '{OnnxMetadataKeys.ClassNames}' is not a JSON array of strings");
            _fixedBatch = CheckValue(path, "input", _session.InputMetadata, OnnxExporter.InputName, _inputLength, "input_length");
            var outputBatch = CheckValue(path, "output", _session.OutputMetadata, OnnxExporter.OutputName, ClassNames.Count, "classes");
            if (outputBatch != _fixedBatch) throw NotAnExport(path, "its input and output batch sizes differ");
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public float[] CropLogits(float[] samples, int testCrops)
    {
        var crops = Crops.PaddedTestCrops(samples, _inputLength, testCrops);
        var count = crops.Length / _inputLength;
        var classes = ClassNames.Count;
        var logits = new float[count * classes];
        var batch = _fixedBatch ?? count;
        // A fixed batch takes the crops in runs of that size, the last one filled up with silence.
        var inputs = new float[batch * _inputLength];
        using var runOptions = new RunOptions();
        for (var start = 0; start < count; start += batch)
        {
            var rows = Math.Min(batch, count - start);
            Array.Clear(inputs);
            crops.AsSpan(start * _inputLength, rows * _inputLength).CopyTo(inputs);
            using var input = OrtValue.CreateTensorValueFromMemory(inputs, [batch, _inputLength]);
            using var outputs = _session.Run(runOptions, [OnnxExporter.InputName], [input], [OnnxExporter.OutputName]);
            outputs[0].GetTensorDataAsSpan<float>()[..(rows * classes)].CopyTo(logits.AsSpan(start * classes));
        }
        return logits;
    }

    public void Dispose() => _session.Dispose();

    /// <summary>Checks that <paramref name="values"/> is one float tensor named <paramref name="name"/> of shape
    /// (batch, <paramref name="size"/>); returns the batch when it is fixed.</summary>
    private static int? CheckValue(string path, string kind, IReadOnlyDictionary<string, NodeMetadata> values, string name, int size, string sizeName)
    {
        var expected = $"one float {kind} '{name}' of shape (batch, {sizeName} = {size})";
        if (values.Count != 1 || !values.TryGetValue(name, out var value))
            throw NotAnExport(path, $"its {kind}s are [{string.Join(", ", values.Keys.Select(k => $"'{k}'"))}], expected {expected}");
        if (!value.IsTensor || value.ElementDataType != TensorElementType.Float || value.Dimensions.Length != 2 || value.Dimensions[1] != size)
            throw NotAnExport(path, $"its {kind} '{name}' is {value.ElementDataType} ({string.Join(", ", value.Dimensions)}), expected {expected}");
        return value.Dimensions[0] > 0 ? value.Dimensions[0] : null;
    }

    private static string[]? ParseClassNames(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<string[]>(json) is { Length: > 0 } names && names.All(n => n is not null) ? names : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static InvalidDataException NotAnExport(string path, string what) =>
        new($"{path}: not an ONNX model written by envnet export: {what}.");

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
