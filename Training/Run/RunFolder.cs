namespace EnvNet.Training.Run;

/// <summary>
/// The layout of a run folder, named once: run.json (the options, which --resume reads back), metrics.csv (a row per
/// epoch and fold), over the finished folds summary.csv, confusion.csv and learning-curves.png, and per fold
/// fold-K/ with last.safetensors (weights), last.state.safetensors (optimiser state and progress), best.safetensors
/// (the weights of the best validation accuracy) and confusion.csv; for a dataset whose folds the program made,
/// folds.csv, the split. <c>envnet report</c> writes the run-level files of this layout into its own folder. The
/// folder's <see cref="RunFolderLock"/> file, .lock, says which process owns it.
/// </summary>
public sealed record RunFolder(string Dir)
{
    public const string RunFileName = "run.json";
    public const string MetricsFileName = "metrics.csv";
    public const string SummaryFileName = "summary.csv";
    public const string ConfusionFileName = "confusion.csv";
    public const string LearningCurvesFileName = "learning-curves.png";
    public const string WeightsFileName = "last.safetensors";
    public const string StateFileName = "last.state.safetensors";
    public const string BestFileName = "best.safetensors";

    public string RunFile => Path.Combine(Dir, RunFileName);
    public string Metrics => Path.Combine(Dir, MetricsFileName);
    public string Summary => Path.Combine(Dir, SummaryFileName);
    public string Confusion => Path.Combine(Dir, ConfusionFileName);
    public string LearningCurves => Path.Combine(Dir, LearningCurvesFileName);

    /// <summary>The folds the run made for a dataset without its own (<see cref="Esc50Dataset.Datasets.FoldSplit"/>).</summary>
    public string FoldSplit => Path.Combine(Dir, Esc50Dataset.Datasets.FoldSplit.FileName);

    public string FoldDir(int fold) => Path.Combine(Dir, $"fold-{fold}");
    public string FoldConfusion(int fold) => Path.Combine(FoldDir(fold), ConfusionFileName);
    public string FoldWeights(int fold) => Path.Combine(FoldDir(fold), WeightsFileName);
}

/// <summary>
/// The run folder's owner: one process at a time trains, resumes or reports into a folder. The lock is a byte-range
/// lock (fcntl on Linux, LockFileEx on Windows; flock on macOS, where .NET has no byte-range lock) on <see cref="FileName"/> in the folder, held for the life of the
/// command and released by the operating system when the process ends in any way, so a killed run leaves no stale
/// lock. The file itself stays (deleting it would let a waiting process lock an orphaned copy) and holds one line
/// naming the holder (PID, host, command, start time), which a refused process quotes. On network file systems the
/// lock is only as good as the server's lock support (README, "Run folders and locks").
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    public const string FileName = ".lock";

    /// <summary>The locked byte lies far past the holder line, so reading the line is never blocked (Windows'
    /// byte-range locks are mandatory).</summary>
    private const long LockedByte = 1L << 40;

    private readonly FileStream _file;

    private RunFolderLock(FileStream file) => _file = file;

    /// <summary>Creates <paramref name="dir"/> if needed and locks it for <paramref name="command"/>; a folder locked
    /// by another process is a <see cref="UsageException"/> (exit 2) naming <paramref name="option"/> and the holder.</summary>
    public static RunFolderLock Take(string dir, string option, string command)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, FileName);
        FileStream file;
        if (OperatingSystem.IsMacOS())
        {
            // .NET has no byte-range lock on macOS: there the open itself takes flock, and the holder's line cannot
            // be read while the lock is held.
            try
            {
                file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                throw InUse(dir, option, "its holder cannot be read on macOS");
            }
        }
        else
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                file.Lock(LockedByte, 1);
            }
            catch (IOException)
            {
                var holder = ReadHolder(file);
                file.Dispose();
                throw InUse(dir, option, holder.Length > 0 ? holder : "holder not yet recorded: it is starting");
            }
        }
        var line = $"PID {Environment.ProcessId} on host {Environment.MachineName}, {command}, started {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss zzz}\n";
        file.SetLength(0);
        file.Write(System.Text.Encoding.UTF8.GetBytes(line));
        file.Flush(flushToDisk: true);
        return new RunFolderLock(file);
    }

    private static UsageException InUse(string dir, string option, string holder) =>
        new($"{option}: '{dir}' is in use by another envnet process ({holder}); wait for it to finish, or choose another folder.");

    private static string ReadHolder(FileStream file)
    {
        file.Position = 0;
        using var reader = new StreamReader(file, leaveOpen: true);
        return reader.ReadToEnd().Trim();
    }

    public void Dispose() => _file.Dispose();
}
