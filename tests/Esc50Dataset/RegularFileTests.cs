using System.Net.Sockets;
using EnvNet.Esc50Dataset;
using static EnvNet.Tests.Esc50TestData;

namespace EnvNet.Tests;

/// <summary>
/// The file-reading contract of <see cref="RegularFile"/>, which <see cref="AudioDecoder"/> (and so training, the
/// cache's preprocessing and predict) reads through: only regular files are read, anything else is refused at once
/// naming the path and what it is; the size is bounded before reading; a file-system error is a
/// <see cref="DatasetException"/> with the reason. The cases that could hang (a FIFO) run under
/// <see cref="FuzzHarness"/>, which fails a read that does not return.
/// </summary>
[TestClass]
public sealed class RegularFileTests
{
    private const long Limit = 1 << 20;

    [TestMethod]
    public void ARegularFileAndASymbolicLinkToOneAreRead()
    {
        using var dir = new TempDir();
        var path = dir.Sub("clip.wav");
        var bytes = Wav(MonoFrames([0.25f, -0.5f]), 16000, FormatPcm, 16);
        File.WriteAllBytes(path, bytes);
        var link = dir.Sub("link.wav");
        File.CreateSymbolicLink(link, path);

        CollectionAssert.AreEqual(bytes, RegularFile.ReadAllBytes(path, Limit, "audio file"));
        CollectionAssert.AreEqual(bytes, RegularFile.ReadAllBytes(link, Limit, "audio file"));
        Assert.AreEqual(2, AudioDecoder.Decode(link).Samples.Length);
    }

    [TestMethod]
    public void EverythingButARegularFileIsRefusedWithoutReadingIt()
    {
        SkipOnWindows();
        using var dir = new TempDir();
        var folder = Directory.CreateDirectory(dir.Sub("folder.wav")).FullName;
        var fifo = dir.Sub("pipe.wav");
        SpecialFiles.Fifo(fifo);
        var zero = dir.Sub("zero.wav");
        File.CreateSymbolicLink(zero, "/dev/zero");
        var dangling = dir.Sub("dangling.wav");
        File.CreateSymbolicLink(dangling, dir.Sub("gone.wav"));
        var socketPath = dir.Sub("socket.wav");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));

        var cases = new (string Path, string Expected)[]
        {
            (folder, "a directory, not a regular file; only regular files are read"),
            (fifo, "a FIFO (named pipe), not a regular file; only regular files are read"),
            ("/dev/zero", "a character device, not a regular file; only regular files are read"),
            (zero, "a character device, not a regular file; only regular files are read"),
            (socketPath, "a socket, not a regular file; only regular files are read"),
            (dangling, $"a symbolic link to '{dir.Sub("gone.wav")}', which does not exist"),
            (dir.Sub("missing.wav"), "audio file does not exist"),
        };
        foreach (var (path, expected) in cases)
        {
            var (_, error) = FuzzHarness.Run(path, 1 << 20, () => RegularFile.ReadAllBytes(path, Limit, "audio file"));
            Assert.AreEqual($"{path}: {expected}", error?.Message, path);
            if (path.EndsWith(".wav", StringComparison.Ordinal))
            {
                var (_, decodeError) = FuzzHarness.Run(path, 1 << 20, () => AudioDecoder.Decode(path));
                Assert.AreEqual($"{path}: {expected}", decodeError?.Message, $"{path} through the decoder");
            }
        }
    }

    [TestMethod]
    public void AFileOverTheLimitIsRefusedByItsSize()
    {
        using var dir = new TempDir();
        var path = dir.Sub("big.wav");
        File.WriteAllBytes(path, new byte[1001]);
        Assert.AreEqual($"{path}: audio file of 1001 bytes, more than the limit of 1000 bytes",
            Assert.ThrowsExactly<DatasetException>(() => RegularFile.ReadAllBytes(path, 1000, "audio file")).Message);
        Assert.AreEqual(1001, RegularFile.ReadAllBytes(path, 1001, "audio file").Length, "a file of exactly the limit is read");
    }

    [TestMethod]
    public void AnUnreadableFileIsADatasetErrorSayingPermissionDenied()
    {
        SkipOnWindows();
        if (SpecialFiles.IsRoot)
            Assert.Inconclusive("running as root, whom file permissions do not stop: a chmod 000 file stays readable");
        using var dir = new TempDir();
        var path = dir.Sub("locked.wav");
        File.WriteAllBytes(path, Wav(MonoFrames([0.5f]), 16000, FormatPcm, 16));
        SpecialFiles.Unreadable(path);
        Assert.AreEqual($"{path}: cannot be read (permission denied)",
            Assert.ThrowsExactly<DatasetException>(() => AudioDecoder.Decode(path)).Message);
    }

    private static void SkipOnWindows()
    {
        if (OperatingSystem.IsWindows())
            Assert.Inconclusive("FIFOs, sockets, /dev/zero and POSIX permissions are Unix cases");
    }
}
