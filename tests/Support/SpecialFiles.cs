using Mono.Unix.Native;

namespace EnvNet.Tests;

/// <summary>File-system states a reliability test puts where a file belongs: a FIFO, a file this user may not read,
/// and copies of run folders to damage.</summary>
internal static class SpecialFiles
{
    /// <summary>Root reads every file whatever its permissions, so "permission denied" cannot be made as root.</summary>
    public static bool IsRoot => !OperatingSystem.IsWindows() && Syscall.geteuid() == 0;

    public static void Fifo(string path)
    {
        if (Syscall.mkfifo(path, FilePermissions.DEFFILEMODE) != 0)
            throw new IOException($"mkfifo {path} failed ({Stdlib.GetLastError()})");
    }

    /// <summary>Replaces <paramref name="path"/> with a file of the same bytes that nobody may read (mode 000).</summary>
    public static void Unreadable(string path)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("file modes are set on Unix only");
        File.SetUnixFileMode(path, UnixFileMode.None);
    }

    public static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
