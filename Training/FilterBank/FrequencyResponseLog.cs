using System.Globalization;
using CsvHelper;

namespace EnvNet.Training.FilterBank;

/// <summary>One line of freqresp.csv: the time-averaged response of one filter (original index) to one probe tone.</summary>
[CsvRecord]
public sealed partial record FrequencyResponseRow(
    [CsvColumn("fold")] int Fold,
    [CsvColumn("epoch")] int Epoch,
    [CsvColumn("filter")] int Filter,
    [CsvColumn("rank")] int Rank,
    [CsvColumn("frequency_hz")] double FrequencyHz,
    [CsvColumn("response")] float Response);

/// <summary>
/// The two CSV files the probe appends to in a run directory: <see cref="ResponseFileName"/> (fold, epoch, filter,
/// rank, frequency_hz, response; filters × frequencies rows per recorded epoch) and <see cref="SummaryFileName"/>
/// (one <see cref="FilterBankSummary"/> per recorded epoch). Each epoch is written with one write and flushed to
/// disk, so a run that stops keeps every epoch recorded so far, and a resumed run appends to them. The files hold
/// whole epochs only: a write that fails (a full disk) is cut back to where it began, and an epoch a killed process
/// left unfinished (its responses short, or its summary row not yet written) is cut off when the log is next opened.
/// </summary>
public sealed class FrequencyResponseLog
{
    public const string ResponseFileName = "freqresp.csv";
    public const string SummaryFileName = "freqresp_summary.csv";

    private readonly AppendingCsv<FrequencyResponseRow> _responses;
    private readonly AppendingCsv<FilterBankSummary> _summaries;

    /// <param name="frontEnd">For a model with several front ends, the one recorded: its files are
    /// freqresp-NAME.csv and freqresp_summary-NAME.csv. Null for a model with one.</param>
    public FrequencyResponseLog(string directory, string? frontEnd = null)
    {
        Directory.CreateDirectory(directory);
        ResponsePath = Path.Combine(directory, FileName(ResponseFileName, frontEnd));
        SummaryPath = Path.Combine(directory, FileName(SummaryFileName, frontEnd));
        _responses = new AppendingCsv<FrequencyResponseRow>(ResponsePath);
        _summaries = new AppendingCsv<FilterBankSummary>(SummaryPath);
        CutUnfinishedEpoch();
    }

    /// <summary>An epoch's responses are written before its summary row, so the last record of freqresp.csv is
    /// whole only when it is as long as the records before it and the summary's last row is its epoch; otherwise it
    /// is cut off, and the next epoch follows the last whole one.</summary>
    private void CutUnfinishedEpoch()
    {
        if (new FileInfo(ResponsePath) is not { Exists: true, Length: > 0 }) return;
        // Record boundaries by line, with the rule of ReadResponses; the leading columns are plain numbers.
        long offset = 0, lastStart = 0;
        var (lastFold, lastEpoch, lastRows, longestEarlier) = (-1, -1, 0, 0);
        var cells = new HashSet<(string Filter, string FrequencyHz)>();
        var first = true;
        foreach (var line in File.ReadLines(ResponsePath))
        {
            var lineStart = offset;
            offset += System.Text.Encoding.UTF8.GetByteCount(line) + 1;
            if (first || line.Length == 0)
            {
                first = false;
                continue;
            }
            var fields = line.Split(',');
            if (fields.Length < 5 || !int.TryParse(fields[0], CultureInfo.InvariantCulture, out var fold)
                || !int.TryParse(fields[1], CultureInfo.InvariantCulture, out var epoch))
                return; // not a file this log wrote: reading it reports what is wrong
            if (fold != lastFold || epoch != lastEpoch || !cells.Add((fields[2], fields[4])))
            {
                longestEarlier = Math.Max(longestEarlier, lastRows);
                (lastFold, lastEpoch, lastRows, lastStart) = (fold, epoch, 0, lineStart);
                cells = [(fields[2], fields[4])];
            }
            lastRows++;
        }
        if (lastRows == 0) return;
        var summaries = new FileInfo(SummaryPath) is { Exists: true, Length: > 0 } ? ReadSummaries(SummaryPath) : [];
        var summarised = summaries.Count > 0 && summaries[^1].Fold == lastFold && summaries[^1].Epoch == lastEpoch;
        if (summarised && lastRows >= longestEarlier) return;
        using var file = new FileStream(ResponsePath, FileMode.Open, FileAccess.Write);
        file.SetLength(lastStart);
    }

    public string ResponsePath { get; }
    public string SummaryPath { get; }

    /// <summary>freqresp.csv, or freqresp-NAME.csv for front end NAME of a model with several.</summary>
    public static string FileName(string fileName, string? frontEnd) =>
        frontEnd is null ? fileName : $"{Path.GetFileNameWithoutExtension(fileName)}-{frontEnd}{Path.GetExtension(fileName)}";

    public void Append(int fold, int epoch, FilterBankResponse response, FilterBankSummary summary)
    {
        _responses.Append(Rows(fold, epoch, response));
        _summaries.Append([summary]);
    }

    public static IEnumerable<FrequencyResponseRow> Rows(int fold, int epoch, FilterBankResponse response)
    {
        for (var filter = 0; filter < response.Filters; filter++)
            for (var k = 0; k < response.Frequencies; k++)
                yield return new FrequencyResponseRow(fold, epoch, filter, response.RankOf[filter], response.FrequenciesHz[k], response[filter, k]);
    }

    public static List<FrequencyResponseRow> ReadRows(string path) => ReadAll<FrequencyResponseRow>(path);

    public static List<FilterBankSummary> ReadSummaries(string path) => ReadAll<FilterBankSummary>(path);

    /// <summary>
    /// The recorded epochs of a freqresp.csv in file order, rebuilt as responses (centres and ranks recomputed).
    /// Where an epoch was recorded twice (a run resumed from an earlier checkpoint), the later record replaces the
    /// earlier one in place. A last record shorter than the one before it (cut short by a kill) is left out; any other
    /// incomplete record is an error naming the file, fold and epoch.
    /// </summary>
    public static List<(int Fold, int Epoch, FilterBankResponse Response)> ReadResponses(string path)
    {
        // A record is a run of rows with one (fold, epoch); a (filter, frequency) seen again starts the next record.
        var blocks = new List<(int Fold, int Epoch, List<FrequencyResponseRow> Rows)>();
        var cellsOfLastBlock = new HashSet<(int Filter, double FrequencyHz)>();
        foreach (var row in ReadRows(path))
        {
            if (blocks.Count == 0 || blocks[^1].Fold != row.Fold || blocks[^1].Epoch != row.Epoch
                || !cellsOfLastBlock.Add((row.Filter, row.FrequencyHz)))
            {
                blocks.Add((row.Fold, row.Epoch, []));
                cellsOfLastBlock = [(row.Filter, row.FrequencyHz)];
            }
            blocks[^1].Rows.Add(row);
        }
        // A process killed while writing can leave the last record short: it is dropped, and that epoch is missing.
        if (blocks.Count >= 2 && blocks[^1].Rows.Count < blocks[^2].Rows.Count) blocks.RemoveAt(blocks.Count - 1);
        var result = new List<(int Fold, int Epoch, FilterBankResponse Response)>();
        foreach (var (fold, epoch, rows) in blocks)
        {
            var recorded = (fold, epoch, ToResponse(path, fold, epoch, rows));
            var earlier = result.FindIndex(r => r.Fold == fold && r.Epoch == epoch);
            if (earlier >= 0) result[earlier] = recorded;
            else result.Add(recorded);
        }
        return result;
    }

    private static FilterBankResponse ToResponse(string path, int fold, int epoch, List<FrequencyResponseRow> rows)
    {
        var frequencies = rows.Select(r => r.FrequencyHz).Distinct().Order().ToArray();
        var filters = rows.Max(r => r.Filter) + 1;
        if (rows.Count != filters * frequencies.Length)
            throw new InvalidDataException(
                $"{path}: fold {fold} epoch {epoch} has {rows.Count} rows; expected filters 0..{filters - 1} × {frequencies.Length} frequencies = {filters * frequencies.Length}.");
        var column = frequencies.Select((f, k) => (f, k)).ToDictionary(p => p.f, p => p.k);
        var response = new float[filters * frequencies.Length];
        foreach (var row in rows)
        {
            if (row.Filter < 0)
                throw new InvalidDataException($"{path}: fold {fold} epoch {epoch} has filter index {row.Filter}; expected 0 or more.");
            response[row.Filter * frequencies.Length + column[row.FrequencyHz]] = row.Response;
        }
        return new FilterBankResponse(frequencies, filters, response);
    }

    private static List<T> ReadAll<T>(string path)
    {
        using var csv = CsvReader.FromFile(path);
        try
        {
            return csv.GetRecords<T>().ToList();
        }
        catch (Exception e) when (e is CsvFormatException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// A CSV file appended to a batch of rows at a time: the header goes only into a new or empty file, a file with
    /// another header is refused, and a last line cut short (a process killed while writing) is cut off before the next
    /// append, so later rows never run on from it. Rows are formatted in memory and written with one write.
    /// </summary>
    private sealed class AppendingCsv<T>
    {
        private static readonly CsvWriterOptions Options = new() { NewLine = "\n" };
        private readonly string _path;
        private bool _writeHeader;

        public AppendingCsv(string path)
        {
            _path = path;
            var header = HeaderOf();
            _writeHeader = !File.Exists(path) || new FileInfo(path).Length == 0;
            if (_writeHeader) return;
            var existing = File.ReadLines(path).FirstOrDefault();
            if (existing != header)
                throw new InvalidDataException($"{path} exists with header '{existing}'; expected '{header}'. Move it away or pick another output directory.");
            CutTornLastLine(path);
        }

        public void Append(IEnumerable<T> rows)
        {
            using var buffer = new MemoryStream();
            using (var csv = CsvWriter.Create(buffer, Options with { HasHeader = _writeHeader }, leaveOpen: true))
                csv.WriteRecords(rows);
            using var file = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
            var before = file.Length;
            try
            {
                buffer.WriteTo(file);
                file.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                file.SetLength(before); // a full disk: no partial epoch stays behind
                throw;
            }
            _writeHeader = false;
        }

        private static void CutTornLastLine(string path)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            var end = file.Length;
            var tail = new byte[1];
            while (end > 0)
            {
                file.Position = end - 1;
                file.ReadExactly(tail);
                if (tail[0] == (byte)'\n') break;
                end--;
            }
            if (end < file.Length) file.SetLength(end);
        }

        private static string HeaderOf()
        {
            using var text = new StringWriter();
            using (var csv = CsvWriter.Create(text, Options, leaveOpen: true)) csv.WriteHeader<T>();
            return text.ToString().TrimEnd('\n');
        }
    }
}
