using EnvNet.Training.Commands;
using EnvNet.Training.Run;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// <c>envnet export</c> never writes over its own input (issue 21, case 3): --onnx naming the --checkpoint file,
/// directly, by another spelling of the path or through a symbolic link, is refused with exit 2 and the checkpoint
/// kept byte for byte. --onnx into a folder that does not exist is refused with exit 2 before the checkpoint is
/// loaded (case 6).
/// </summary>
[TestClass]
public sealed class ExportOverwriteTests
{
    [TestMethod]
    [DataRow("same path")]
    [DataRow("another spelling")]
    [DataRow("symbolic link")]
    public void OnnxOntoItsOwnCheckpointIsRefusedAndTheCheckpointKept(string how)
    {
        using var dir = new TempDir();
        var checkpoint = dir.Sub("b.safetensors");
        File.Copy(Path.Combine(TinyTrainingRun.Finished, "fold-1", RunFolder.BestFileName), checkpoint);
        var bytes = File.ReadAllBytes(checkpoint);
        var onnx = how switch
        {
            "same path" => checkpoint,
            "another spelling" => Path.Combine(dir.Path, "sub", "..", "b.safetensors"),
            _ => dir.Sub("link.onnx"),
        };
        Directory.CreateDirectory(dir.Sub("sub"));
        if (how == "symbolic link") File.CreateSymbolicLink(onnx, checkpoint);

        var (code, _, error) = Cli("export", "--checkpoint", checkpoint, "--onnx", onnx);

        Assert.AreEqual(ExitCodes.Usage, code, error);
        Assert.AreEqual($"error: --onnx: expected a path other than the command's input --checkpoint; '{onnx}' is '{checkpoint}', which writing would replace.", error.Trim());
        CollectionAssert.AreEqual(bytes, File.ReadAllBytes(checkpoint));
    }

    [TestMethod]
    public void OnnxIntoAMissingFolderIsRefusedBeforeTheCheckpointIsLoaded()
    {
        using var dir = new TempDir();
        var notACheckpoint = dir.Sub("garbage.safetensors"); // loading it would fail with exit 1: exit 2 shows it was not loaded
        File.WriteAllText(notACheckpoint, "not a checkpoint");
        var missing = dir.Sub("no-such-folder");

        var (code, _, error) = Cli("export", "--checkpoint", notACheckpoint, "--onnx", Path.Combine(missing, "m.onnx"));

        Assert.AreEqual(ExitCodes.Usage, code, error);
        Assert.AreEqual($"error: --onnx: expected the ONNX file in a folder that exists; '{missing}' does not.", error.Trim());
        Assert.IsFalse(Directory.Exists(missing));
    }
}
