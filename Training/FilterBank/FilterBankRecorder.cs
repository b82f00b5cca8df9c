namespace EnvNet.Training.FilterBank;

/// <summary>
/// Keeps the record of the learned filter bank over a run: appends each measured epoch to freqresp.csv and
/// freqresp_summary.csv in the run folder, and draws into FOLD/freqresp/ a heatmap per epoch (epoch-NNN.png), the
/// latest epoch's centre frequencies beside the mel bank's (centres-vs-mel.png) and, on request, the animation over
/// the recorded epochs (animation.gif). Epochs recorded by an earlier process (a resumed run, or earlier
/// <c>envnet freqresp</c> calls into the same folder) are read back from freqresp.csv, so the animation covers them.
/// </summary>
public sealed class FilterBankRecorder
{
    public const string PicturesFolder = "freqresp";
    public const string AnimationFileName = "animation.gif";
    public const string CentresFileName = "centres-vs-mel.png";

    /// <summary>The animation holds at most this many frames, spread evenly over the recorded epochs (always the first
    /// and the last): each frame costs ~1 MB of memory and ~70 ms to encode, so a 600-epoch run would otherwise need
    /// 600 MB and 40 s per rewrite.</summary>
    public const int MaxAnimationFrames = 150;

    private readonly FrequencyResponseLog _log;
    private readonly string? _frontEnd;
    private readonly Dictionary<int, SortedDictionary<int, FilterBankResponse>> _history = [];

    /// <param name="frontEnd">For a model with several front ends, the one this recorder keeps (its CSV files get the
    /// name as a suffix, its pictures a subfolder); null for a model with one.</param>
    public FilterBankRecorder(string runDir, string? frontEnd = null)
    {
        _frontEnd = frontEnd;
        _log = new FrequencyResponseLog(runDir, frontEnd); // first: it cuts a line torn by a killed process
        if (new FileInfo(_log.ResponsePath) is { Exists: true, Length: > 0 })
            foreach (var (fold, epoch, response) in FrequencyResponseLog.ReadResponses(_log.ResponsePath))
                EpochsOf(fold)[epoch] = response;
    }

    public string ResponsePath => _log.ResponsePath;
    public string SummaryPath => _log.SummaryPath;

    public static string PicturesDir(string foldDir, string? frontEnd = null) =>
        frontEnd is null ? Path.Combine(foldDir, PicturesFolder) : Path.Combine(foldDir, PicturesFolder, frontEnd);

    public static string HeatmapPath(string foldDir, int epoch, string? frontEnd = null) =>
        Path.Combine(PicturesDir(foldDir, frontEnd), $"epoch-{epoch:D3}.png");

    /// <summary>Appends the epoch to the CSV files, its summary beside the fold's initial bank (epoch 0) where that
    /// was recorded, and draws its heatmap and centre-frequency plot.</summary>
    public FilterBankSummary Record(int fold, int epoch, FilterBankResponse response, string foldDir)
    {
        var epochs = EpochsOf(fold);
        epochs[epoch] = response;
        var summary = FilterBankSummary.Of(fold, epoch, response, epochs.GetValueOrDefault(0));
        _log.Append(fold, epoch, response, summary);

        var pictures = PicturesDir(foldDir, _frontEnd);
        Directory.CreateDirectory(pictures);
        var title = Title(summary);
        FilterBankPictures.WriteHeatmap(HeatmapPath(foldDir, epoch, _frontEnd), response, title);
        FilterBankPictures.WriteCentresVersusMel(Path.Combine(pictures, CentresFileName), response, title);
        return summary;
    }

    /// <summary>Rewrites the fold's animation from its recorded epochs; returns its path.</summary>
    public string WriteAnimation(int fold, string foldDir)
    {
        var recorded = EpochsOf(fold);
        if (recorded.Count == 0) throw new InvalidOperationException($"Fold {fold} has no recorded epoch to animate.");
        Directory.CreateDirectory(PicturesDir(foldDir, _frontEnd));
        var path = Path.Combine(PicturesDir(foldDir, _frontEnd), AnimationFileName);
        FilterBankPictures.WriteAnimation(path, AnimationEpochs(recorded.Keys.ToList(), MaxAnimationFrames)
            .Select(epoch => (recorded[epoch], Title(FilterBankSummary.Of(fold, epoch, recorded[epoch])))));
        return path;
    }

    /// <summary>All <paramref name="epochs"/> when they are at most <paramref name="maxFrames"/>, else that many spread
    /// evenly over them, the first and the last included.</summary>
    public static IReadOnlyList<int> AnimationEpochs(IReadOnlyList<int> epochs, int maxFrames) =>
        epochs.Count <= maxFrames
            ? epochs
            // Spacing (count - 1) / (maxFrames - 1) > 1, so the rounded indices are distinct.
            : Enumerable.Range(0, maxFrames).Select(i => epochs[(int)Math.Round(i * (epochs.Count - 1.0) / (maxFrames - 1))]).ToList();

    /// <summary>Epochs recorded for <paramref name="fold"/> so far, in this process or before it.</summary>
    public int RecordedEpochs(int fold) => _history.TryGetValue(fold, out var epochs) ? epochs.Count : 0;

    private SortedDictionary<int, FilterBankResponse> EpochsOf(int fold)
    {
        if (!_history.TryGetValue(fold, out var epochs)) _history[fold] = epochs = [];
        return epochs;
    }

    private static string Title(FilterBankSummary s) =>
        $"fold {s.Fold}, epoch {s.Epoch}: mel correlation {s.MelCorrelation:F3}, {s.MelRmsOctaves:F2} octaves RMS from mel";
}
