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
/// (one <see cref="FilterBankSummary"/> per recorded epoch). Both are flushed after every epoch, so a run that stops
/// keeps every epoch recorded so far, and a resumed run appends to them.
/// </summary>
public sealed class FrequencyResponseLog : IDisposable
{
    public const string ResponseFileName = "freqresp.csv";
    public const string SummaryFileName = "freqresp_summary.csv";

    private readonly AppendingCsv<FrequencyResponseRow> _responses;
    private readonly AppendingCsv<FilterBankSummary> _summaries;

    public FrequencyResponseLog(string directory)
    {
        Directory.CreateDirectory(directory);
        ResponsePath = Path.Combine(directory, ResponseFileName);
        SummaryPath = Path.Combine(directory, SummaryFileName);
        _responses = new AppendingCsv<FrequencyResponseRow>(ResponsePath);
        try
        {
            _summaries = new AppendingCsv<FilterBankSummary>(SummaryPath);
        }
        catch
        {
            _responses.Dispose();
            throw;
        }
    }

    public string ResponsePath { get; }
    public string SummaryPath { get; }

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
    /// earlier one in place.
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

    public void Dispose()
    {
        _responses.Dispose();
        _summaries.Dispose();
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

    /// <summary>A CSV file opened for appending: writes the header only to a new or empty file, refuses a file whose
    /// header is different, and flushes after every append.</summary>
    private sealed class AppendingCsv<T> : IDisposable
    {
        private readonly CsvWriter _csv;

        public AppendingCsv(string path)
        {
            var header = HeaderOf();
            var isNew = !File.Exists(path) || new FileInfo(path).Length == 0;
            if (!isNew)
            {
                var existing = File.ReadLines(path).FirstOrDefault();
                if (existing != header)
                    throw new InvalidDataException($"{path} exists with header '{existing}'; expected '{header}'. Move it away or pick another output directory.");
            }
            var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
            _csv = CsvWriter.Create(stream, new CsvWriterOptions { HasHeader = isNew });
        }

        public void Append(IEnumerable<T> rows)
        {
            _csv.WriteRecords(rows);
            _csv.Flush();
        }

        public void Dispose() => _csv.Dispose();

        private static string HeaderOf()
        {
            using var text = new StringWriter();
            using (var csv = CsvWriter.Create(text, leaveOpen: true)) csv.WriteHeader<T>();
            return text.ToString().TrimEnd('\r', '\n');
        }
    }
}
