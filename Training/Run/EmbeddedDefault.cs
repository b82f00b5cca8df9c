using EnvNet.Esc50Dataset;
using Serilog;

namespace EnvNet.Training.Run;

/// <summary>
/// The embedded default: what <c>envnet train</c> does without <c>--data</c>. It trains the small model on the
/// synthetic ESC-50 twin so that a fresh clone shows the whole product working in a few minutes on two CPU cores.
/// Options given explicitly still override these values; the model's recipe schedule does not apply to it.
/// </summary>
public static class EmbeddedDefault
{
    public const string Model = "envnet-tiny";
    public const int Classes = SyntheticEsc50.DefaultClasses;
    public const int ClipsPerClassPerFold = SyntheticEsc50.DefaultClipsPerClassPerFold;
    public const int DataSeed = 2017;
    public const int Epochs = 12;
    public const int Batch = 16;
    public const double LearningRate = 0.03;
    public static readonly double[] LearningRateSteps = [0.5, 0.75];
    public static readonly int[] Folds = [1];

    public static string DataDir(string cacheDir) =>
        Path.Combine(cacheDir, $"{CacheFolder.SyntheticPrefix}{Classes}c-{ClipsPerClassPerFold}x-seed{DataSeed}");

    /// <summary>Generates the embedded default's synthetic ESC-50 twin once; it is written to a temporary folder
    /// (".partial-PID") and renamed, so an interrupted generation is never mistaken for a finished one. A stop request
    /// ends it after the clips in hand (<see cref="OperationCanceledException"/>) and removes the temporary folder; the
    /// temporary folders of processes no longer running (killed outright) are removed first.</summary>
    public static void EnsureData(string dataDir, ILogger log, CancellationToken cancel = default)
    {
        if (File.Exists(Path.Combine(dataDir, Esc50Metadata.CsvRelativePath))) return;
        RemoveOrphanPartials(dataDir, log);
        log.Information("Generating the synthetic ESC-50 twin ({Classes} classes, {Clips} clips per class and fold) into {DataDir}",
            Classes, ClipsPerClassPerFold, dataDir);
        var temporary = dataDir + PartialSuffix + Environment.ProcessId;
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        var clips = Classes * ClipsPerClassPerFold * Esc50Metadata.Folds;
        try
        {
            RunConsole.Phase("generating synthetic clips", clips, line => log.Information("{Progress}", line), report =>
                SyntheticEsc50.Write(temporary, Classes, ClipsPerClassPerFold, DataSeed, done => report(done, null), cancel));
        }
        catch (OperationCanceledException)
        {
            Directory.Delete(temporary, recursive: true);
            throw;
        }
        Directory.Move(temporary, dataDir);
    }

    private const string PartialSuffix = ".partial-";

    private static void RemoveOrphanPartials(string dataDir, ILogger log)
    {
        var parent = Path.GetDirectoryName(dataDir)!;
        if (!Directory.Exists(parent)) return;
        foreach (var partial in Directory.EnumerateDirectories(parent, Path.GetFileName(dataDir) + PartialSuffix + "*"))
        {
            if (!int.TryParse(partial[(dataDir.Length + PartialSuffix.Length)..], out var writer) || ProcessIds.IsRunning(writer)) continue;
            Directory.Delete(partial, recursive: true);
            log.Information("Removed {Partial}, a generation left by process {Writer}, which is no longer running", partial, writer);
        }
    }
}
