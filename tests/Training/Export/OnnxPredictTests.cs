using System.Text.Json;
using EnvNet.Training.Commands;
using EnvNet.Training.Export;
using Google.Protobuf;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary><c>envnet predict --onnx</c>: the same test crops and probabilities as <c>--checkpoint</c>, and one clear
/// line for a file that is damaged or not an envnet export.</summary>
[TestClass]
public sealed class OnnxPredictTests
{
    private static TempDir _dir = null!;
    private static string _checkpoint = null!;
    private static string _wav = null!;

    [ClassInitialize]
    public static void ExportATinyModel(TestContext _)
    {
        _dir = new TempDir();
        using var model = OnnxExportTests.ModelWithRunningStatistics("envnet-tiny", seed: 12);
        _checkpoint = OnnxExportTests.SaveInRunFolder(model, _dir);
        // 1.2 s of a 440 Hz tone at 22.05 kHz, which predict resamples to the model's 16 kHz.
        var frames = new float[26460, 1];
        for (var i = 0; i < frames.GetLength(0); i++) frames[i, 0] = 0.5f * MathF.Sin(2 * MathF.PI * 440 * i / 22050f);
        _wav = _dir.Sub("tone.wav");
        File.WriteAllBytes(_wav, Esc50TestData.Wav(frames, 22050, Esc50TestData.FormatFloat, 32));
    }

    [ClassCleanup]
    public static void DeleteFiles() => _dir.Dispose();

    private static string Export(string name, params string[] options)
    {
        var onnx = _dir.Sub(name);
        var (code, _, error) = Cli(["export", "--checkpoint", _checkpoint, "--onnx", onnx, .. options]);
        Assert.AreEqual(ExitCodes.Success, code, error);
        return onnx;
    }

    private static PredictCommand.PredictionReport Predict(params string[] source)
    {
        var (code, output, error) = Cli(["predict", .. source, "--wav", _wav, "--json", "--top", "5", "--test-crops", "10"]);
        Assert.AreEqual(ExitCodes.Success, code, error);
        return JsonSerializer.Deserialize<PredictCommand.PredictionReport>(output,
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    }

    [TestMethod]
    [DataRow("dynamic")]
    [DataRow("4")] // 10 crops in runs of 4: the last run is partly filler
    public void PredictOnnxGivesTheCropLogitsAndRankingOfTheCheckpoint(string batch)
    {
        var onnx = Export($"batch-{batch}.onnx", "--batch", batch);
        var fromCheckpoint = Predict("--checkpoint", _checkpoint, "--accelerator", "cpu");
        var fromOnnx = Predict("--onnx", onnx);

        Assert.AreEqual(fromCheckpoint.Model, fromOnnx.Model);
        Assert.AreEqual(10, fromOnnx.Crops);
        Assert.HasCount(fromCheckpoint.CropLogits.Count, fromOnnx.CropLogits);
        var maxDifference = fromCheckpoint.CropLogits.Zip(fromOnnx.CropLogits, (c, o) => c.Zip(o, (a, b) => Math.Abs(a - b)).Max()).Max();
        Assert.IsLessThanOrEqualTo(1e-4, maxDifference);
        CollectionAssert.AreEqual(fromCheckpoint.Top.Select(r => r.ClassName).ToArray(), fromOnnx.Top.Select(r => r.ClassName).ToArray());
    }

    /// <summary>Files predict --onnx must refuse, each with the words its one-line error must contain.</summary>
    public static IEnumerable<object[]> ForeignFiles =>
    [
        ["truncated", "not a readable ONNX model"],
        ["random bytes", "not a readable ONNX model"],
        ["another input name", "its inputs are ['audio'], expected one float input 'waveform' of shape (batch, input_length = 8040)"],
        ["no metadata", "its metadata has no 'model'"],
    ];

    [TestMethod]
    [DynamicData(nameof(ForeignFiles))]
    public void PredictOnnxOfAFileThatIsNotAnEnvNetExportFailsWithOneLineNamingIt(string kind, string expected)
    {
        var path = _dir.Sub($"{kind}.onnx");
        switch (kind)
        {
            case "truncated":
                var bytes = File.ReadAllBytes(Export("whole.onnx"));
                File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
                break;
            case "random bytes":
                var noise = new byte[4096];
                new Random(3).NextBytes(noise);
                File.WriteAllBytes(path, noise);
                break;
            case "another input name":
                var renamed = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Export("whole.onnx")));
                renamed.Graph.Input[0].Name = "audio";
                foreach (var node in renamed.Graph.Node)
                    for (var i = 0; i < node.Input.Count; i++)
                        if (node.Input[i] == OnnxExporter.InputName) node.Input[i] = "audio";
                File.WriteAllBytes(path, renamed.ToByteArray());
                break;
            case "no metadata":
                var bare = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Export("whole.onnx")));
                bare.MetadataProps.Clear();
                File.WriteAllBytes(path, bare.ToByteArray());
                break;
        }

        var (code, output, error) = Cli("predict", "--onnx", path, "--wav", _wav);
        Assert.AreEqual(ExitCodes.Failure, code, error);
        Assert.AreEqual("", output);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines, error);
        StringAssert.StartsWith(lines[0], $"error: {path}: ");
        StringAssert.Contains(lines[0], expected);
    }
}
