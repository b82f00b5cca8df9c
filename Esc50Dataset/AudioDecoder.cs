using EnvNet.Esc50Dataset.Audio;

namespace EnvNet.Esc50Dataset;

/// <summary>
/// The one entry point through which every command reads an audio file: it decides which formats the product reads
/// (<see cref="AudioFormat.All"/>, whose extensions are <see cref="FileExtensions"/>), the limits every format
/// shares, and which decoder reads a file. Callers never call a format's decoder directly.
/// </summary>
public static class AudioDecoder
{
    /// <summary>Far above a 5 s ESC-50 clip (441 KB) and small enough to read whole into memory.</summary>
    public const long MaxFileBytes = 256L << 20;
    /// <summary>Samples of all channels together: 2^26 is 25 minutes of 44.1 kHz stereo.</summary>
    public const long MaxSamples = 1L << 26;
    public const int MinSampleRate = 1_000;
    public const int MaxSampleRate = 1_000_000;
    public const int MaxChannels = 64;

    /// <summary>The file name extensions of the formats read, lower case with the dot: what a folder scan picks up.</summary>
    public static IReadOnlyList<string> FileExtensions { get; } = [.. AudioFormat.All.SelectMany(f => f.Extensions)];

    /// <summary>The formats read, for help texts: "WAV (.wav), Ogg Vorbis (.ogg), MP3 (.mp3)".</summary>
    public static string FormatList { get; } = string.Join(", ", AudioFormat.All.Select(f => $"{f.Name} ({string.Join(", ", f.Extensions)})"));

    /// <summary>Whether <paramref name="path"/> has the extension of a format read (case-insensitive).</summary>
    public static bool HasAudioExtension(string path) => AudioFormat.ByExtension(path) is not null;

    /// <summary>
    /// Decodes the file to mono samples in [-1, 1] at its own rate. The file is read through <see cref="RegularFile"/>
    /// (a regular file of at most <see cref="MaxFileBytes"/>); its extension names the format and its content must
    /// agree, so a renamed file is refused rather than guessed at. A file that cannot be read or decoded gets a
    /// <see cref="DatasetException"/> naming it.
    /// </summary>
    public static DecodedAudio Decode(string path)
    {
        var claimed = AudioFormat.ByExtension(path)
            ?? throw new DatasetException($"{path}: extension '{Path.GetExtension(path)}' is not one of the audio formats read: {FormatList}");
        var bytes = RegularFile.ReadAllBytes(path, MaxFileBytes, "audio file");
        if (AudioFormat.ByContent(bytes) is { } found && found != claimed)
            throw new DatasetException($"{path}: the extension says {claimed.Name} but the content is {found.Name}; rename the file to its format's extension");
        return claimed.Decode(bytes, path);
    }
}
