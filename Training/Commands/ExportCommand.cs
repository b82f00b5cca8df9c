using System.CommandLine;
using System.Globalization;
using EnvNet.Training.Export;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet export</c>: a checkpoint as an ONNX file for deployment with ONNX Runtime.</summary>
public static class ExportCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Weights file written by envnet train." };
        var onnx = new Option<string?>("--onnx") { Description = "ONNX file to write." };
        var opset = new Option<int>("--opset")
        {
            Description = $"ONNX operator set, {OnnxExporter.MinOpset} to {OnnxExporter.MaxOpset}.",
            DefaultValueFactory = _ => OnnxExporter.DefaultOpset,
        };
        var batch = new Option<string>("--batch")
        {
            Description = "Batch dimension of the input and output: 'dynamic' or a fixed size.",
            DefaultValueFactory = _ => "dynamic",
        };
        var command = new Command("export",
            "Write a checkpoint as ONNX in inference form: input 'waveform' (batch, input_length), output 'logits' (batch, classes), " +
            "class names, sample rate and test-crop recipe in the metadata.")
        {
            checkpoint, onnx, opset, batch,
        };
        command.SetAction(parsed =>
        {
            var output = parsed.GetValue(onnx);
            var batchSize = ParseBatch(parsed.GetValue(batch)!, out var batchError);
            var failures = OptionChecks.Failures(
                OptionChecks.ExistingFile("--checkpoint", parsed.GetValue(checkpoint), "a .safetensors checkpoint"),
                OnnxOutput(output) ?? OptionChecks.NotAnInput("--onnx", output!, ("--checkpoint", parsed.GetValue(checkpoint))),
                OptionChecks.InRange("--opset", parsed.GetValue(opset), OnnxExporter.MinOpset, OnnxExporter.MaxOpset, "an ONNX opset"),
                batchError);
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }
            var (config, _) = OnnxExporter.Export(parsed.GetValue(checkpoint)!, output!, parsed.GetValue(opset), batchSize);
            context.Out.WriteLine(
                $"Wrote {output} ({config.Name}, {config.Classes} classes, input '{OnnxExporter.InputName}' (batch {batchSize}, " +
                $"{config.InputLength}) at {config.SampleRate} Hz, opset {parsed.GetValue(opset)}, {new FileInfo(output!).Length} bytes).");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The ONNX file goes into a folder that exists (export creates none: a mistyped folder is refused
    /// before the checkpoint is loaded) and that this process can write to.</summary>
    private static string? OnnxOutput(string? path) =>
        path is null ? "--onnx: expected the path of the ONNX file to write; the option is required."
        : Directory.Exists(path) ? $"--onnx: expected the path of the ONNX file to write; '{path}' is a folder."
        : Path.GetDirectoryName(Path.GetFullPath(path))! is var folder && !Directory.Exists(folder)
            ? $"--onnx: expected the ONNX file in a folder that exists; '{folder}' does not."
            : OptionChecks.WritableFolder("--onnx", folder);

    private static OnnxBatch ParseBatch(string value, out string? error)
    {
        error = null;
        if (value == "dynamic") return OnnxBatch.Dynamic;
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0) return new OnnxBatch(size);
        error = $"--batch: expected 'dynamic' or a positive batch size; got '{value}'.";
        return OnnxBatch.Dynamic;
    }
}
