namespace EnvNet.Training.Checkpoints;

/// <summary>
/// Writes files so that a reader sees either the old or the new content, never a torn file: the content goes to
/// "<c>path</c>.tmp" in the same folder, is flushed to disk, and is then renamed over <c>path</c> (an atomic replace
/// on POSIX file systems and NTFS). The temporary name is fixed so a later run can find and finish an interrupted commit.
/// <para>For the kill tests only, the environment variable <c>ENVNET_TEST_CHECKPOINT_DELAY_MS</c> makes every write
/// pause that long three times: with the temporary file created but empty, with it written, and before the rename;
/// so a test can kill the process in the middle of a checkpoint write (docs/reliability.md).</para>
/// </summary>
public static class AtomicFile
{
    public const string TestDelayVariable = "ENVNET_TEST_CHECKPOINT_DELAY_MS";

    private static readonly int TestDelayMs =
        int.TryParse(Environment.GetEnvironmentVariable(TestDelayVariable), out var delay) && delay > 0 ? delay : 0;

    public static string TemporaryPath(string path) => path + ".tmp";

    public static void Write(string path, Action<Stream> write) => Commit(WriteTemporary(path, write), path);

    /// <summary>Writes and flushes the temporary file for <paramref name="path"/> and returns its name.</summary>
    public static string WriteTemporary(string path, Action<Stream> write)
    {
        var temporary = TemporaryPath(path);
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            PauseForTests(); // an empty temporary file: a write killed before it began
            write(stream);
            stream.Flush(flushToDisk: true);
            PauseForTests(); // complete but not yet renamed
        }
        return temporary;
    }

    public static void Commit(string temporaryPath, string path)
    {
        PauseForTests();
        File.Move(temporaryPath, path, overwrite: true);
    }

    private static void PauseForTests()
    {
        if (TestDelayMs > 0) Thread.Sleep(TestDelayMs);
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        });
}
