using EnvNet.Esc50Dataset.Datasets;

namespace EnvNet.Training.Commands;

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

    /// <summary>A dataset path: of <paramref name="kind"/> when the kind is forced (a CSV list may then have any
    /// extension), else of a kind <see cref="DatasetKind.Recognise"/> finds. A folder that exists but cannot be read
    /// is reported as unreadable, not as missing.</summary>
    public static string? Dataset(string option, string? path, DatasetKind? kind = null)
    {
        if (path is null) return $"{option}: expected a dataset folder or CSV list; the option is required.";
        if (kind == DatasetKind.Csv)
            return Directory.Exists(path) ? $"{option}: expected {kind.Layout}; '{path}' is a folder." : ExistingFile(option, path, kind.Layout);
        if (kind is not null && !File.Exists(path))
        {
            if (!Directory.Exists(path)) return $"{option}: expected a {kind.Name} dataset ({kind.Layout}); '{path}' does not exist.";
            try
            {
                Directory.EnumerateFileSystemEntries(path).Any();
                return null;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                return $"{option}: expected a {kind.Name} dataset ({kind.Layout}); {DatasetKind.Unreadable(path, e)}.";
            }
        }
        return DatasetKind.Recognise(path, out var problem) is null
            ? $"{option}: expected {(kind is null ? "a dataset" : $"a {kind.Name} dataset")} ({string.Join("; ", (kind is null ? DatasetKind.All : [kind]).Select(k => $"{k.Name}: {k.Layout}"))}); {problem}."
            : null;
    }

    public static string? InRange(string option, int value, int min, int max, string what) =>
        value >= min && value <= max ? null : $"{option}: expected {what} from {min} to {max}; got {value}.";

    public static string? Positive(string option, int value, string what) =>
        value > 0 ? null : $"{option}: expected a positive {what}; got {value}.";

    /// <summary>An output that would replace one of the command's own inputs (the same file once full paths are
    /// compared with symbolic links resolved, e.g. <c>export --checkpoint m.safetensors --onnx m.safetensors</c>)
    /// is refused: writing it would destroy the input, perhaps a user's only copy.</summary>
    public static string? NotAnInput(string outputOption, string output, params (string Option, string? Path)[] inputs)
    {
        var resolvedOutput = ResolvedPath(output);
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var input = inputs.FirstOrDefault(i => i.Path is not null && string.Equals(ResolvedPath(i.Path), resolvedOutput, comparison));
        return input.Path is null ? null
            : $"{outputOption}: expected a path other than the command's input {input.Option}; '{output}' is '{input.Path}', which writing would replace.";
    }

    /// <summary>The full path with every symbolic link along it resolved (as far as the path exists).</summary>
    public static string ResolvedPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var resolved = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(resolved, part);
            var target = Path.Exists(next) ? new FileInfo(next).ResolveLinkTarget(returnFinalTarget: true) : null;
            resolved = target is null ? next : Path.GetFullPath(target.FullName);
        }
        return resolved;
    }

    /// <summary>Whether <paramref name="path"/> is, or can be created as, a folder this process writes to. It
    /// creates nothing: it writes and deletes a probe file in the nearest folder that exists, so a read-only or
    /// impossible path fails before any work and a refused command line leaves no empty folder behind.</summary>
    public static string? WritableFolder(string option, string path)
    {
        try
        {
            var existing = NearestExistingFolder(path);
            var probe = Path.Combine(existing, $".envnet-write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"{option}: expected a writable folder; cannot write to '{path}' ({e.Message}).";
        }
    }

    /// <summary><paramref name="path"/> itself if it is a folder, else the closest folder above it; an
    /// <see cref="IOException"/> when a file is in the way.</summary>
    public static string NearestExistingFolder(string path)
    {
        for (var candidate = Path.GetFullPath(path); candidate is not null; candidate = Path.GetDirectoryName(candidate))
        {
            if (Directory.Exists(candidate)) return candidate;
            if (File.Exists(candidate)) throw new IOException($"'{candidate}' is a file");
        }
        throw new IOException($"no folder above '{path}' exists"); // a drive or share that is not there
    }

    /// <summary>Whether the file system holding <paramref name="path"/> (or the folder it would be created in) has
    /// <paramref name="neededBytes"/> free for <paramref name="what"/>, so a run does not fail at its first
    /// checkpoint hours in.</summary>
    public static string? FreeSpace(string option, string path, long neededBytes, string what)
    {
        var free = new DriveInfo(NearestExistingFolder(path)).AvailableFreeSpace;
        return free >= neededBytes ? null
            : $"{option}: expected a folder with {Mebibytes(neededBytes)} MiB free for {what}; '{path}' has {Mebibytes(free)} MiB free.";
    }

    private static long Mebibytes(long bytes) => (bytes + (1 << 20) - 1) >> 20;

    /// <summary>The messages of the failed checks; the command prints them and exits with code 2.</summary>
    public static IReadOnlyList<string> Failures(params string?[] checks) => checks.OfType<string>().ToList();
}
