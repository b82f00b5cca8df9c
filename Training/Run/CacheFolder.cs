namespace EnvNet.Training.Run;

/// <summary>Where envnet keeps decoded audio and generated data: $ENVNET_CACHE, else the user's cache folder.
/// Decoded clips go to <c>clips/DATASET-HASH/RATE-hz/</c>, one folder per dataset folder (its name and a hash of
/// its full path, which <c>clips/DATASET-HASH/source.txt</c> records) and per sample rate; generated data sets to
/// <c>synthetic-esc50-*</c> beside it.</summary>
public static class CacheFolder
{
    public const string ClipsFolder = "clips";
    public const string SourceFile = "source.txt";
    public const string SyntheticPrefix = "synthetic-esc50-";

    /// <summary>The folder of the decoded clips of <paramref name="dataDir"/> at <paramref name="sampleRate"/>,
    /// created with the dataset's source.txt.</summary>
    public static string PrepareClips(string cacheDir, string dataDir, int sampleRate)
    {
        var source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(source)))[..8];
        var datasetDir = Path.Combine(cacheDir, ClipsFolder, $"{Path.GetFileName(source)}-{hash}");
        var clipsDir = Path.Combine(datasetDir, $"{sampleRate}-hz");
        Directory.CreateDirectory(clipsDir);
        File.WriteAllText(Path.Combine(datasetDir, SourceFile), source + Environment.NewLine);
        return clipsDir;
    }

    public static string Default()
    {
        var configured = Environment.GetEnvironmentVariable("ENVNET_CACHE");
        if (!string.IsNullOrEmpty(configured)) return Path.GetFullPath(configured);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "envnet");
    }
}
