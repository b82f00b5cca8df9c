using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace EnvNet.Esc50Dataset;

/// <summary>
/// Preprocessed clips on disk, one file per clip, so a second run skips decoding and resampling. An entry is used
/// only when its key (source path, size and modification time, sample rate, trimming, preprocessing version)
/// matches and its SHA-256 checksum is right; anything else is rebuilt and rewritten, never trusted.
/// Entry layout (little endian): "EnvClip\0", format version, key length and UTF-8 key, sample count,
/// float32 samples, SHA-256 of everything before it. Entries are written to a temporary file and renamed,
/// so an interrupted run leaves no half-written entry under the final name; the temporary files of a writer that was
/// killed are removed by the next cache opened on the folder.
/// </summary>
internal sealed class ClipCache
{
    private const int FormatVersion = 1;
    private const int MaxKeyBytes = 4096;
    private static readonly byte[] Magic = "EnvClip\0"u8.ToArray();

    private readonly string cacheDir;
    private readonly Action<string>? log;

    public ClipCache(string cacheDir, Action<string>? log)
    {
        this.cacheDir = cacheDir;
        this.log = log;
        RemoveOrphanTemporaries();
    }

    /// <summary>A temporary entry's name ends in ".PID.GUID.tmp" (<see cref="Write"/>): those of processes no longer
    /// running are left over from a crash or kill -9 and are deleted; a live writer's (another run sharing the
    /// cache) is left alone.</summary>
    private void RemoveOrphanTemporaries()
    {
        foreach (var temporary in Directory.EnumerateFiles(cacheDir, "*.tmp"))
        {
            var parts = Path.GetFileName(temporary).Split('.');
            if (parts.Length < 4 || !int.TryParse(parts[^3], out var writer) || ProcessIds.IsRunning(writer)) continue;
            try
            {
                File.Delete(temporary);
                log?.Invoke($"removed {temporary}, left by process {writer} which is no longer running");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log?.Invoke($"cannot remove {temporary}, left by process {writer} ({e.Message}); it is never read");
            }
        }
    }

    /// <summary>The key of a source; one that is not a file (missing, or a folder, whose length cannot be asked)
    /// gets a key no entry has, and its decoding reports what is wrong.</summary>
    public static string Key(FileInfo source, int sampleRate, bool trimSilence) =>
        $"{source.FullName}|{(source.Exists ? source.Length : -1)} bytes|modified {source.LastWriteTimeUtc.Ticks}|{sampleRate} Hz|" +
        $"trim {trimSilence}|preprocessing v{ClipPreprocessor.Version}";

    /// <summary>The entry file of a source at a rate and trimming; the modification time is not part of the name,
    /// so a changed source overwrites its stale entry instead of adding one.</summary>
    public string EntryPath(FileInfo source, int sampleRate, bool trimSilence)
    {
        var identity = SHA256.HashData(Encoding.UTF8.GetBytes($"{source.FullName}|{sampleRate}|{trimSilence}"));
        return Path.Combine(cacheDir, $"{Path.GetFileNameWithoutExtension(source.Name)}-{Convert.ToHexStringLower(identity)[..16]}.clip");
    }

    /// <summary>The cached samples, or null (and a log line saying why, unless the entry does not exist).</summary>
    public float[]? TryRead(string entryPath, string key)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(entryPath))
                return null;
            bytes = File.ReadAllBytes(entryPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log?.Invoke($"cache entry {entryPath} cannot be read ({e.Message}); rebuilding it");
            return null;
        }
        var problem = Parse(bytes, key, out var samples);
        if (problem is not null)
            log?.Invoke($"cache entry {entryPath} {problem}; rebuilding it");
        return samples;
    }

    public void Write(string entryPath, string key, float[] samples)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var payload = MemoryMarshal.AsBytes(samples.AsSpan());
        var bytes = new byte[Magic.Length + 8 + keyBytes.Length + 4 + payload.Length + SHA256.HashSizeInBytes];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        int at = Magic.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(span[(at + 4)..], keyBytes.Length);
        at += 8;
        keyBytes.CopyTo(span[at..]);
        at += keyBytes.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], samples.Length);
        at += 4;
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("the clip cache stores little-endian floats");
        payload.CopyTo(span[at..]);
        at += payload.Length;
        SHA256.HashData(span[..at], span[at..]);

        var temporary = $"{entryPath}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"; // the name RemoveOrphanTemporaries parses
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, entryPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log?.Invoke($"cache entry {entryPath} cannot be written ({e.Message}); the clip is used without caching");
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // nothing more to do: the temporary name is never read
            }
        }
    }

    /// <summary>Checks an entry; returns what is wrong with it (null when it is good) and its samples when good.</summary>
    private static string? Parse(byte[] bytes, string key, out float[]? samples)
    {
        samples = null;
        var span = bytes.AsSpan();
        int headerBytes = Magic.Length + 8;
        if (span.Length < headerBytes + 4 + SHA256.HashSizeInBytes || !span[..Magic.Length].SequenceEqual(Magic))
            return "is damaged (not a clip cache file)";
        var body = span[..^SHA256.HashSizeInBytes];
        Span<byte> checksum = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, checksum);
        if (!checksum.SequenceEqual(span[^SHA256.HashSizeInBytes..]))
            return "is damaged (checksum mismatch)";
        int version = BinaryPrimitives.ReadInt32LittleEndian(span[Magic.Length..]);
        if (version != FormatVersion)
            return $"is stale (format version {version}, expected {FormatVersion})";
        int keyLength = BinaryPrimitives.ReadInt32LittleEndian(span[(Magic.Length + 4)..]);
        if (keyLength < 0 || keyLength > MaxKeyBytes || headerBytes + keyLength + 4 > body.Length)
            return "is damaged (bad key length)";
        var storedKey = Encoding.UTF8.GetString(body.Slice(headerBytes, keyLength));
        if (storedKey != key)
            return $"is stale (made for {storedKey}, wanted {key})";
        int at = headerBytes + keyLength;
        int count = BinaryPrimitives.ReadInt32LittleEndian(body[at..]);
        at += 4;
        if (count <= 0 || (long)count * sizeof(float) != body.Length - at)
            return "is damaged (sample count does not match its size)";
        samples = MemoryMarshal.Cast<byte, float>(body[at..]).ToArray();
        return null;
    }
}
