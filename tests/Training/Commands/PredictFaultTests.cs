using EnvNet.Esc50Dataset;
using EnvNet.Training.Commands;
using EnvNet.Training.Run;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// <c>envnet predict</c> over files that cannot be read (issue 21, cases 2 and 5): a FIFO in a --wav folder,
/// /dev/zero, a folder named like a WAV file and a file this user may not read are each reported on one line and
/// skipped; every other file is still classified, and the exit code is 1 at the end. The audio decoder reads only
/// files with a size, so none of these blocks or grows without end.
/// </summary>
[TestClass]
public sealed class PredictFaultTests
{
    private static string Checkpoint => Path.Combine(TinyTrainingRun.Finished, "fold-1", RunFolder.BestFileName);

    private static string[] GoodClips => Directory.EnumerateFiles(Path.Combine(TinyTrainingRun.Data, Esc50Metadata.AudioFolder), "*.wav")
        .Order(StringComparer.Ordinal).Take(2).ToArray();

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void BadFilesAreReportedTheRestClassifiedAndTheExitCodeSaysSo()
    {
        using var dir = new TempDir();
        var folder = dir.Sub("wavs");
        Directory.CreateDirectory(folder);
        File.Copy(GoodClips[0], Path.Combine(folder, "a.wav"));
        SpecialFiles.Fifo(Path.Combine(folder, "b.wav")); // a FIFO nobody writes to: reading it would wait for ever
        File.Copy(GoodClips[1], Path.Combine(folder, "c.wav"));

        var (code, output, error) = Cli("predict", "--checkpoint", Checkpoint, "--accelerator", "cpu", "--format", "csv", "--test-crops", "1",
            "--wav", folder, "--wav", "/dev/zero");

        Assert.AreEqual(ExitCodes.Failure, code, error);
        var rows = output.Trim().Split('\n').Skip(1).Select(r => r.Split(',')[0]).ToArray();
        CollectionAssert.AreEqual(new[] { Path.Combine(folder, "a.wav"), Path.Combine(folder, "c.wav") }, rows, "the files after a bad one are classified");
        var errors = error.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToArray();
        Assert.HasCount(3, errors, error);
        StringAssert.StartsWith(errors[0], $"error: {Path.Combine(folder, "b.wav")}: ");
        StringAssert.StartsWith(errors[1], "error: /dev/zero: ");
        Assert.AreEqual("error: 2 files of 4 could not be read.", errors[2]);
    }

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void DecoderRefusesWhatIsNotARegularFileBeforeReadingIt()
    {
        using var dir = new TempDir();
        var fifo = dir.Sub("pipe.wav");
        SpecialFiles.Fifo(fifo);
        var folder = dir.Sub("folder.wav");
        Directory.CreateDirectory(folder);
        foreach (var path in new[] { fifo, folder, "/dev/zero" })
        {
            var e = Assert.ThrowsExactly<DatasetException>(() => AudioDecoder.Decode(path));
            StringAssert.StartsWith(e.Message, path + ": ");
        }
    }

    [TestMethod]
    [OSCondition(OperatingSystems.Linux)]
    public void UnreadableFileIsReportedAndTheRestClassified()
    {
        if (SpecialFiles.IsRoot)
            Assert.Inconclusive("Running as root, which reads a file whatever its permissions: permission denied cannot be made here. " +
                                "BadFilesAreReportedTheRestClassifiedAndTheExitCodeSaysSo covers the same path with a FIFO and /dev/zero.");
        using var dir = new TempDir();
        var unreadable = dir.Sub("a.wav");
        File.Copy(GoodClips[0], unreadable);
        SpecialFiles.Unreadable(unreadable);
        var (code, output, error) = Cli("predict", "--checkpoint", Checkpoint, "--accelerator", "cpu", "--format", "csv", "--test-crops", "1",
            "--wav", unreadable, GoodClips[1]);
        Assert.AreEqual(ExitCodes.Failure, code, error);
        StringAssert.Contains(error, $"error: {unreadable}: cannot be read (");
        StringAssert.Contains(output, GoodClips[1]);
    }
}
