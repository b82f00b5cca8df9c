namespace EnvNet.Training.Checkpoints;

/// <summary>
/// Writes files so that a reader sees either the old or the new content, never a torn file: the content goes to
/// "<c>path</c>.tmp" in the same folder, is flushed to disk, and is then renamed over <c>path</c> (an atomic replace
/// on POSIX file systems and NTFS). The temporary name is fixed so a later run can find and finish an interrupted commit.
/// </summary>
public static class AtomicFile
{
    public static string TemporaryPath(string path) => path + ".tmp";

    public static void Write(string path, Action<Stream> write) => Commit(WriteTemporary(path, write), path);

    /// <summary>Writes and flushes the temporary file for <paramref name="path"/> and returns its name.</summary>
    public static string WriteTemporary(string path, Action<Stream> write)
    {
        var temporary = TemporaryPath(path);
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        return temporary;
    }

    public static void Commit(string temporaryPath, string path) => File.Move(temporaryPath, path, overwrite: true);

    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        });
}
