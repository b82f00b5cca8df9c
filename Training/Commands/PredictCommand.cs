using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EnvNet.Esc50Dataset;
using EnvNet.Kernels;
using EnvNet.Training.Export;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet predict</c>: the most likely classes of audio files, from a checkpoint or an exported ONNX file, with one
/// model load for all of them.</summary>
public static class PredictCommand
{
    public static readonly string[] Formats = ["text", "csv", "jsonl"];

    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string?>("--checkpoint") { HelpName = "FILE", Description = "Weights file written by envnet train." };
        var onnx = new Option<string?>("--onnx") { HelpName = "FILE", Description = "ONNX file written by envnet export, run by ONNX Runtime on the CPU (instead of --checkpoint)." };
        var wav = new Option<string[]>("--wav")
        {
            HelpName = "FILE|DIR",
            Description = $"Audio file to classify (any rate, mono or multi-channel; {AudioDecoder.FormatList}), or a folder: its files of those formats. Repeat it, or give several after it.",
            AllowMultipleArgumentsPerToken = true,
        };
        var list = new Option<string?>("--list") { HelpName = "FILE", Description = "A text file naming one audio file per line (blank lines and lines starting with # are skipped)." };
        var top = new Option<int>("--top") { HelpName = "K", Description = "How many classes to show per file.", DefaultValueFactory = _ => 5 };
        var format = new Option<string>("--format")
        {
            HelpName = string.Join("|", Formats),
            Description = "text: readable lines; csv: file,top1,p1,top2,p2,... one row per file; jsonl: one JSON object per file with class names, probabilities and each crop's logits.",
            DefaultValueFactory = _ => "text",
        };
        var json = new Option<bool>("--json") { Description = "The same as --format jsonl." };
        var testCrops = new Option<int>("--test-crops") { HelpName = "N", Description = "Evenly spaced crops averaged per file.", DefaultValueFactory = _ => 10 };
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("predict", "Classify audio files with a checkpoint or an ONNX export: top classes with test-crop averaged probabilities.")
        {
            checkpoint, onnx, wav, list, top, format, json, testCrops, accelerator,
        };
        command.SetAction(parsed =>
        {
            var errors = new List<string>();
            var choice = TrainOptionsValidator.ParseAccelerator(parsed.GetValue(accelerator), errors);
            var chosenFormat = parsed.GetValue(json) ? "jsonl" : parsed.GetValue(format)!;
            var files = WavFiles(parsed.GetValue(wav) ?? [], parsed.GetValue(list), errors);
            var onnxPath = parsed.GetValue(onnx);
            var failures = OptionChecks.Failures(
                [
                    onnxPath is null
                        ? OptionChecks.ExistingFile("--checkpoint", parsed.GetValue(checkpoint), "a .safetensors checkpoint (or --onnx)")
                        : parsed.GetValue(checkpoint) is not null
                            ? "--onnx: expected either --checkpoint or --onnx; both were given."
                            : OptionChecks.ExistingFile("--onnx", onnxPath, "an ONNX file written by envnet export"),
                    .. errors,
                    OptionChecks.Positive("--top", parsed.GetValue(top), "number of classes"),
                    Formats.Contains(chosenFormat) ? null : $"--format: expected one of {string.Join(", ", Formats)}; got '{chosenFormat}'.",
                    OptionChecks.Positive("--test-crops", parsed.GetValue(testCrops), "number of crops"),
                ]);
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }
            var crops = parsed.GetValue(testCrops);
            using ICropClassifier classifier = onnxPath is not null
                ? new OnnxCropClassifier(onnxPath)
                : new CheckpointCropClassifier(parsed.GetValue(checkpoint)!, choice ?? AcceleratorChoice.Auto, Math.Min(crops, 64));
            return Run(context, classifier, files, parsed.GetValue(top), chosenFormat, crops);
        });
        return command;
    }

    /// <summary>The files named by --wav (files, and the *.wav files of folders, in name order) and --list, each
    /// checked to exist; a problem is one message naming the option.</summary>
    private static List<string> WavFiles(string[] wavs, string? listFile, List<string> errors)
    {
        var files = new List<string>();
        foreach (var wav in wavs)
        {
            if (Directory.Exists(wav))
            {
                var inFolder = Directory.EnumerateFiles(wav)
                    .Where(AudioDecoder.HasAudioExtension).Order(StringComparer.Ordinal).ToList();
                if (inFolder.Count == 0) errors.Add($"--wav: expected a WAV file or a folder holding *.wav files; '{wav}' has none.");
                files.AddRange(inFolder);
            }
            else if (OptionChecks.ExistingFile("--wav", wav, "a WAV file or a folder of them") is { } missing) errors.Add(missing);
            else files.Add(wav);
        }
        if (listFile is not null)
        {
            if (OptionChecks.ExistingFile("--list", listFile, "a text file naming WAV files") is { } missing)
                errors.Add(missing);
            else
            {
                var lines = File.ReadAllLines(listFile);
                for (var i = 0; i < lines.Length; i++)
                {
                    var path = lines[i].Trim();
                    if (path.Length == 0 || path.StartsWith('#')) continue;
                    if (File.Exists(path)) files.Add(path);
                    else errors.Add($"--list: expected a WAV file on line {i + 1} of '{listFile}'; '{path}' does not exist.");
                }
            }
        }
        if (wavs.Length == 0 && listFile is null) errors.Add("--wav: expected a WAV file or a folder of them (or --list FILE); the option is required.");
        else if (files.Count == 0 && errors.Count == 0) errors.Add($"--list: expected WAV files; '{listFile}' names none.");
        return files;
    }

    private static int Run(CliContext context, ICropClassifier classifier, IReadOnlyList<string> files, int top, string format, int testCrops)
    {
        var shown = Math.Min(top, classifier.ClassNames.Count);
        if (format == "csv")
            context.Out.WriteLine(string.Join(",", Enumerable.Range(1, shown).SelectMany(k => new[] { $"top{k}", $"p{k}" }).Prepend("file")));
        var failed = 0;
        void PredictAll(Action<int> filesDone)
        {
            for (var i = 0; i < files.Count; i++)
            {
                try
                {
                    var samples = ClipPreprocessor.Preprocess(files[i], classifier.SampleRate);
                    Write(context.Out, format, files[i], classifier.Model, Predict(classifier, samples, testCrops, shown));
                }
                catch (DatasetException e)
                {
                    // One unreadable file does not cost the predictions of the others; the exit code still says so.
                    context.Error.WriteLine($"error: {e.Message}");
                    failed++;
                }
                filesDone(i + 1);
            }
        }
        // On a terminal the predictions printed as they come are the progress (a live bar would re-wrap them to
        // its width); with the output in a file, plain progress lines go to standard error.
        if (RunConsole.IsInteractive) PredictAll(_ => { });
        else RunConsole.Phase("predicting", files.Count, context.Error.WriteLine, report => PredictAll(done => report(done, null)));
        if (failed > 0) context.Error.WriteLine($"error: {Wording.Count(failed, "file")} of {files.Count} could not be read.");
        return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private sealed record Prediction(int Crops, IReadOnlyList<RankedClass> Top, IReadOnlyList<float[]> CropLogits);

    private static Prediction Predict(ICropClassifier classifier, float[] samples, int testCrops, int top)
    {
        var logits = classifier.CropLogits(samples, testCrops);
        var classNames = classifier.ClassNames;
        var classes = classNames.Count;
        var crops = logits.Length / classes;
        var probabilities = new double[classes];
        for (var k = 0; k < crops; k++) TestCropEvaluator.AddSoftmax(logits.AsSpan(k * classes, classes), probabilities);
        for (var i = 0; i < classes; i++) probabilities[i] /= crops;
        var ranked = Enumerable.Range(0, classes).OrderByDescending(i => probabilities[i]).Take(top)
            .Select(i => new RankedClass(classNames[i], i, probabilities[i])).ToList();
        return new Prediction(crops, ranked, Enumerable.Range(0, crops).Select(k => logits.AsSpan(k * classes, classes).ToArray()).ToList());
    }

    private static void Write(TextWriter output, string format, string file, string model, Prediction prediction)
    {
        switch (format)
        {
            case "csv":
                output.WriteLine(string.Join(",", prediction.Top
                    .SelectMany(r => new[] { Csv(r.ClassName), r.Probability.ToString("G6", CultureInfo.InvariantCulture) })
                    .Prepend(Csv(file))));
                break;
            case "jsonl":
                output.WriteLine(JsonSerializer.Serialize(
                    new PredictionReport(Path.GetFullPath(file), model, prediction.Crops, prediction.Top, prediction.CropLogits), JsonOptions));
                break;
            default:
                output.WriteLine($"{file} ({model}, {Wording.Count(prediction.Crops, "crop")}):");
                foreach (var r in prediction.Top) output.WriteLine($"  {r.Probability,7:P1}  {r.ClassName}");
                break;
        }
    }

    /// <summary>A CSV field, quoted when it holds a comma, quote or line break.</summary>
    private static string Csv(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : $"\"{field.Replace("\"", "\"\"")}\"";

    public sealed record RankedClass(string ClassName, int ClassIndex, double Probability);

    /// <summary>One --format jsonl line: top classes by mean probability and the raw logits of every crop.</summary>
    public sealed record PredictionReport(string File, string Model, int Crops, IReadOnlyList<RankedClass> Top, IReadOnlyList<float[]> CropLogits);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
