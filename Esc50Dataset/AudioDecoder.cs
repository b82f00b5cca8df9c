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
    /// gets a <see cref="DatasetException"/> naming it.</summary>
    public static DecodedAudio Decode(string path) => WavDecoder.Decode(path);
}
