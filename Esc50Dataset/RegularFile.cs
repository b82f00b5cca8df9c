using Microsoft.Win32.SafeHandles;
using Mono.Unix;
using Mono.Unix.Native;

namespace EnvNet.Esc50Dataset;

/// <summary>
/// The one way the dataset code reads a data file whole. Only a regular file is read: a directory, FIFO, socket or
/// device (such as /dev/zero) is refused before any byte is read, so nothing can hang on a pipe or grow without end
/// on a stream of unknown length. The size is taken from the opened file and bounded before reading. Every
/// file-system error, a file vanishing or a permission denied included, is a <see cref="DatasetException"/> naming
/// the path and the reason.
/// </summary>
public static class RegularFile
{
    /// <summary>The bytes of the file at <paramref name="path"/>, which must be a regular file (or a symbolic link
    /// to one) of at most <paramref name="maxBytes"/> bytes; <paramref name="what"/> names its kind in errors
    /// ("audio file").</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        try
        {
            using var handle = OperatingSystem.IsWindows() ? OpenOnWindows(path, what) : OpenOnUnix(path, what);
            long length = RandomAccess.GetLength(handle);
            if (length > maxBytes)
                throw new DatasetException($"{path}: {what} of {length} bytes, more than the limit of {maxBytes} bytes");
            var bytes = new byte[length];
            for (int filled = 0; filled < bytes.Length;)
            {
                int read = RandomAccess.Read(handle, bytes.AsSpan(filled), filled);
                if (read == 0)
                    throw new DatasetException($"{path}: cannot be read (the file shrank from {length} to {filled} bytes while it was read)");
                filled += read;
            }
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException($"{path}: cannot be read ({e.Message})", e);
        }
    }

    /// <summary>Opens without blocking (a FIFO would otherwise wait for a writer at the open), then asks the opened
    /// file what it is, so a file swapped between a check and the open cannot slip through.</summary>
    private static SafeFileHandle OpenOnUnix(string path, string what)
    {
        int fd = Syscall.open(path, OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC);
        if (fd < 0)
            throw OpenError(path, what, Stdlib.GetLastError());
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Syscall.fstat(fd, out var status) != 0)
        {
            var errno = Stdlib.GetLastError();
            handle.Dispose();
            throw new DatasetException($"{path}: cannot be read ({Reason(errno)})");
        }
        var type = status.st_mode & FilePermissions.S_IFMT;
        if (type != FilePermissions.S_IFREG)
        {
            handle.Dispose();
            throw NotRegular(path, KindName(type));
        }
        return handle;
    }

    private static SafeFileHandle OpenOnWindows(string path, string what)
    {
        if (Directory.Exists(path))
            throw NotRegular(path, "a directory");
        if (!File.Exists(path))
            throw new DatasetException($"{path}: {what} does not exist");
        return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    private static DatasetException OpenError(string path, string what, Errno errno)
    {
        // A socket cannot be opened at all (ENXIO): say what it is rather than the C library's words.
        if (Syscall.stat(path, out var status) == 0 && (status.st_mode & FilePermissions.S_IFMT) is var type && type != FilePermissions.S_IFREG)
            return NotRegular(path, KindName(type));
        if (errno != Errno.ENOENT)
            return new DatasetException($"{path}: cannot be read ({Reason(errno)})");
        return new FileInfo(path).LinkTarget is { } target
            ? new DatasetException($"{path}: a symbolic link to '{target}', which does not exist")
            : new DatasetException($"{path}: {what} does not exist");
    }

    /// <summary>The C library's description of the error, lower case as it reads inside a sentence ("permission denied").</summary>
    private static string Reason(Errno errno)
    {
        var description = UnixMarshal.GetErrorDescription(errno);
        return description.Length == 0 ? errno.ToString() : char.ToLowerInvariant(description[0]) + description[1..];
    }

    private static string KindName(FilePermissions type) => type switch
    {
        FilePermissions.S_IFDIR => "a directory",
        FilePermissions.S_IFCHR => "a character device",
        FilePermissions.S_IFBLK => "a block device",
        FilePermissions.S_IFIFO => "a FIFO (named pipe)",
        FilePermissions.S_IFSOCK => "a socket",
        _ => $"a file of type {(uint)type:x}",
    };

    private static DatasetException NotRegular(string path, string kind) =>
        new($"{path}: {kind}, not a regular file; only regular files are read");
}
