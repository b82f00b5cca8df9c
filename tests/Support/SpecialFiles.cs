using System.Runtime.InteropServices;

namespace EnvNet.Tests;

/// <summary>File-system states a reliability test puts where a file belongs: a FIFO, a file this user may not read,
/// and copies of run folders to damage.</summary>
internal static class SpecialFiles
{
    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, uint mode);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint EffectiveUserId();

    /// <summary>Root reads every file whatever its permissions, so "permission denied" cannot be made as root.</summary>
    public static bool IsRoot => OperatingSystem.IsLinux() && EffectiveUserId() == 0;

    public static void Fifo(string path)
    {
        if (MakeFifo(path, Convert.ToUInt32("644", 8)) != 0)
            throw new IOException($"mkfifo {path} failed (errno {Marshal.GetLastPInvokeError()})");
    }

    /// <summary>Replaces <paramref name="path"/> with a file of the same bytes that nobody may read (mode 000).</summary>
    public static void Unreadable(string path)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("file modes are set on Linux only");
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
