using System.Text.Json;
using EnvNet.Esc50Dataset;
using Microsoft.ML.OnnxRuntime;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>The C# example of README.md's "Deploying a trained model", compiled here: the test runs it on an export and
/// checks that the README still shows this code, line for line.</summary>
[TestClass]
public sealed class OnnxReadmeExampleTests
{
    // README example begin
    static string Classify(string onnxPath, string wavPath)
    {
        using var session = new InferenceSession(onnxPath);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        var (rate, length) = (int.Parse(metadata["sample_rate"]), int.Parse(metadata["input_length"]));
        var classes = JsonSerializer.Deserialize<string[]>(metadata["class_names"])!;
        // The test-crop recipe: 10 windows of the clip padded with input_length/2 zeros on both sides.
        var crops = Crops.PaddedTestCrops(ClipPreprocessor.Preprocess(wavPath, rate), length, 10);
        var count = crops.Length / length;
        using var input = OrtValue.CreateTensorValueFromMemory(crops, [count, length]);
        using var runOptions = new RunOptions();
        using var output = session.Run(runOptions, ["waveform"], [input], ["logits"]);
        // The prediction: the class of highest softmax probability averaged over the crops.
        var probabilities = new double[classes.Length];
        foreach (var row in output[0].GetTensorDataAsSpan<float>().ToArray().Chunk(classes.Length))
        {
            var max = row.Max();
            var exp = row.Select(l => Math.Exp(l - max)).ToArray();
            var sum = exp.Sum();
            for (var i = 0; i < exp.Length; i++) probabilities[i] += exp[i] / sum / count;
        }
        return classes[Array.IndexOf(probabilities, probabilities.Max())];
    }
    // README example end

    [TestMethod]
    public void ReadmeExampleClassifiesAWavAsPredictOnnxDoesAndIsWhatTheReadmeShows()
    {
        using var dir = new TempDir();
        using var model = OnnxExportTests.ModelWithRunningStatistics("envnet-tiny", seed: 21);
        var checkpoint = OnnxExportTests.SaveInRunFolder(model, dir);
        var onnx = dir.Sub("envnet.onnx");
        Assert.AreEqual(0, Cli("export", "--checkpoint", checkpoint, "--onnx", onnx).Code);
        var frames = new float[20000, 1];
        for (var i = 0; i < frames.GetLength(0); i++) frames[i, 0] = 0.3f * MathF.Sin(2 * MathF.PI * 1000 * i / 16000f);
        var wav = dir.Sub("tone.wav");
        File.WriteAllBytes(wav, Esc50TestData.Wav(frames, 16000, Esc50TestData.FormatFloat, 32));

        var (code, output, error) = Cli("predict", "--onnx", onnx, "--wav", wav, "--top", "1");
        Assert.AreEqual(0, code, error);
        StringAssert.EndsWith(output.Trim(), "  " + Classify(onnx, wav));

        var root = RepositoryRoot();
        var source = Lines(File.ReadAllText(Path.Combine(root, "tests", "Training", "Export", "OnnxReadmeExampleTests.cs")))
            .SkipWhile(l => l != "// README example begin").Skip(1).TakeWhile(l => l != "// README example end").ToArray();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var section = readme[readme.IndexOf("## Deploying a trained model", StringComparison.Ordinal)..];
        var block = section[(section.IndexOf("```csharp", StringComparison.Ordinal) + 9)..];
        var shown = Lines(block[..block.IndexOf("```", StringComparison.Ordinal)]).SkipWhile(l => !l.StartsWith("static string Classify")).ToArray();
        Assert.IsNotEmpty(source);
        CollectionAssert.AreEqual(source, shown, "README.md's example differs from the code compiled in this test");
    }

    /// <summary>Non-empty lines without their indentation.</summary>
    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EnvNet.Gpu.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no folder above {AppContext.BaseDirectory} holds EnvNet.Gpu.sln");
    }
}
