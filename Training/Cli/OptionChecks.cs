namespace EnvNet.Training.Cli;

/// <summary>Checks shared by the commands: each returns one message naming the option and what was expected, or null.</summary>
public static class OptionChecks
{
    public static string? ExistingFile(string option, string? path, string what) =>
        path is null ? $"{option}: expected {what}; the option is required."
        : File.Exists(path) ? null
        : $"{option}: expected {what}; '{path}' does not exist.";

    public static string? ExistingFolder(string option, string? path, string what) =>
        path is null ? $"{option}: expected {what}; the option is required."
        : Directory.Exists(path) ? null
        : $"{option}: expected {what}; '{path}' does not exist.";

    public static string? Esc50Folder(string option, string? path) =>
        ExistingFolder(option, path, "an ESC-50 folder")
        ?? (File.Exists(Path.Combine(path!, "meta", "esc50.csv")) ? null
            : $"{option}: expected an ESC-50 folder with meta/esc50.csv; '{path}' has none.");

    public static string? InRange(string option, int value, int min, int max, string what) =>
        value >= min && value <= max ? null : $"{option}: expected {what} from {min} to {max}; got {value}.";

    public static string? Positive(string option, int value, string what) =>
        value > 0 ? null : $"{option}: expected a positive {what}; got {value}.";

    /// <summary>Creates the folder if needed and writes and deletes a probe file, so a read-only or impossible
    /// path fails before any work rather than after the first epoch.</summary>
    public static string? WritableFolder(string option, string path)
    {
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, $".envnet-write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"{option}: expected a writable folder; cannot write to '{path}' ({e.Message}).";
        }
    }

    /// <summary>Whether the file system holding <paramref name="path"/> has <paramref name="neededBytes"/> free for
    /// <paramref name="what"/>, so a run does not fail at its first checkpoint hours in.</summary>
    public static string? FreeSpace(string option, string path, long neededBytes, string what)
    {
        var free = new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace;
        return free >= neededBytes ? null
            : $"{option}: expected a folder with {Mebibytes(neededBytes)} MiB free for {what}; '{path}' has {Mebibytes(free)} MiB free.";
    }

    private static long Mebibytes(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    /// <summary>The messages of the failed checks; the command prints them and exits with code 2.</summary>
    public static IReadOnlyList<string> Failures(params string?[] checks) => checks.OfType<string>().ToList();
}
