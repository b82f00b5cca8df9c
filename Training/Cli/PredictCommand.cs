using System.CommandLine;
using System.Text.Json;
using EnvNet.Esc50Dataset;
using EnvNet.Kernels;
using EnvNet.Training.Prediction;

namespace EnvNet.Training.Cli;

/// <summary><c>envnet predict</c>: the most likely classes of one WAV file, from a checkpoint or an exported ONNX file.</summary>
public static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Weights file written by envnet train." };
        var onnx = new Option<string?>("--onnx") { Description = "ONNX file written by envnet export, run by ONNX Runtime on the CPU (instead of --checkpoint)." };
        var wav = new Option<string?>("--wav") { Description = "WAV file to classify (any rate, mono or multi-channel)." };
        var top = new Option<int>("--top") { Description = "How many classes to show.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print JSON, including each crop's logits." };
        var testCrops = new Option<int>("--test-crops") { Description = "Evenly spaced crops averaged.", DefaultValueFactory = _ => 10 };
        var accelerator = new Option<string>("--accelerator") { Description = "For --checkpoint: auto, cuda, opencl, cpu (host kernels) or ilgpu-cpu (ILGPU's simulated GPU).", DefaultValueFactory = _ => "auto" };
        var command = new Command("predict", "Classify a WAV file with a checkpoint or an ONNX export: top classes with test-crop averaged probabilities.")
        {
            checkpoint, onnx, wav, top, json, testCrops, accelerator,
        };
        command.SetAction(parsed =>
        {
            var acceleratorErrors = new List<string>();
            var choice = TrainOptionsValidator.ParseAccelerator(parsed.GetValue(accelerator), acceleratorErrors);
            var onnxPath = parsed.GetValue(onnx);
            var failures = OptionChecks.Failures(
                onnxPath is null
                    ? OptionChecks.ExistingFile("--checkpoint", parsed.GetValue(checkpoint), "a .safetensors checkpoint (or --onnx)")
                    : parsed.GetValue(checkpoint) is not null
                        ? "--onnx: expected either --checkpoint or --onnx; both were given."
                        : OptionChecks.ExistingFile("--onnx", onnxPath, "an ONNX file written by envnet export"),
                OptionChecks.ExistingFile("--wav", parsed.GetValue(wav), "a WAV file"),
                OptionChecks.Positive("--top", parsed.GetValue(top), "number of classes"),
                OptionChecks.Positive("--test-crops", parsed.GetValue(testCrops), "number of crops"),
                acceleratorErrors.FirstOrDefault());
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }
            var crops = parsed.GetValue(testCrops);
            using ICropClassifier classifier = onnxPath is not null
                ? new OnnxCropClassifier(onnxPath)
                : new CheckpointCropClassifier(parsed.GetValue(checkpoint)!, choice ?? AcceleratorChoice.Auto, Math.Min(crops, 64));
            return Run(context, classifier, parsed.GetValue(wav)!, parsed.GetValue(top), parsed.GetValue(json), crops);
        });
        return command;
    }

    private static int Run(CliContext context, ICropClassifier classifier, string wavPath, int top, bool asJson, int testCrops)
    {
        var samples = ClipPreprocessor.Preprocess(wavPath, classifier.SampleRate);
        var logits = classifier.CropLogits(samples, testCrops);
        var classes = classifier.ClassNames.Count;
        var crops = logits.Length / classes;
        var probabilities = new double[classes];
        for (var k = 0; k < crops; k++) TestCropEvaluator.AddSoftmax(logits.AsSpan(k * classes, classes), probabilities);
        for (var i = 0; i < classes; i++) probabilities[i] /= crops;
        var ranked = Enumerable.Range(0, classes).OrderByDescending(i => probabilities[i]).Take(top)
            .Select(i => new RankedClass(classifier.ClassNames[i], i, probabilities[i])).ToList();

        if (asJson)
        {
            var report = new PredictionReport(Path.GetFullPath(wavPath), classifier.Model, crops, ranked,
                Enumerable.Range(0, crops).Select(k => logits.AsSpan(k * classes, classes).ToArray()).ToList());
            context.Out.WriteLine(JsonSerializer.Serialize(report, JsonOptions));
        }
        else
        {
            context.Out.WriteLine($"{Path.GetFileName(wavPath)} ({classifier.Model}, {crops} crops):");
            foreach (var r in ranked) context.Out.WriteLine($"  {r.Probability,7:P1}  {r.ClassName}");
        }
        return ExitCodes.Success;
    }

    public sealed record RankedClass(string ClassName, int ClassIndex, double Probability);

    /// <summary>The --json output: top classes by mean probability and the raw logits of every crop.</summary>
    public sealed record PredictionReport(string File, string Model, int Crops, IReadOnlyList<RankedClass> Top, IReadOnlyList<float[]> CropLogits);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
