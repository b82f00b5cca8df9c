namespace EnvNet.Esc50Dataset;

/// <summary>
/// The one entry point through which every command reads an audio file: it decides which formats the product reads
/// (<see cref="FileExtensions"/>) and which decoder reads a file. Callers never call a format's decoder directly.
/// </summary>
public static class AudioDecoder
{
    /// <summary>The file name extensions of the formats read, lower case with the dot: what a folder scan picks up.</summary>
    public static IReadOnlyList<string> FileExtensions { get; } = [".wav"];

    /// <summary>Whether <paramref name="path"/> has the extension of a format read (case-insensitive).</summary>
    public static bool HasAudioExtension(string path) =>
        FileExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>Decodes the file to mono samples in [-1, 1] at its own rate; a file that cannot be read or decoded
    /// gets a <see cref="DatasetException"/> naming it. Only a file whose size is known and not zero is read, and
    /// only that many bytes: a pipe, socket or device (which report no size) is refused before it is opened, so it
    /// can neither block the reader nor feed it without end.</summary>
    public static DecodedAudio Decode(string path)
    {
        try
        {
            if (Directory.Exists(path))
                throw new DatasetException($"{path}: a folder, where an audio file was expected");
            if (new FileInfo(path) is { Exists: true, Length: 0 })
                throw new DatasetException($"{path}: no size (an empty file, or not a regular file: a pipe, socket or device); expected an audio file");
            return WavDecoder.Decode(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new DatasetException($"{path}: cannot be read ({e.Message})", e);
        }
    }
}
