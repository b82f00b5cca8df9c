using CsvHelper;

namespace EnvNet.Esc50Dataset.Datasets;

/// <summary>
/// Reads a dataset's metadata CSV (ESC-50's meta/esc50.csv, UrbanSound8K's metadata/UrbanSound8K.csv, a user's
/// path,label[,fold] list) with the same bounds and error wording for all: the file must exist and be at most
/// 64 MiB, every required column must be in its header, a malformed record or a read failure names the file and row.
/// Each data row goes to a checker that returns what is wrong with it, or null; a bad row throws unless
/// <c>skipBad</c> is set, when it is logged and listed instead.
/// </summary>
public static class MetadataCsv
{
    private const long MaxCsvBytes = 64L << 20; // ESC-50's file is 100 KB, UrbanSound8K's 500 KB; bounds keep a damaged one from filling memory
    private const int MaxRecordBytes = 64 << 10;
    private const int MaxShownField = 60; // errors quote fields up to this many characters, headers and paths up to 200
    public const int MaxShownHeader = 200;

    /// <summary>One data row: its line in the file (the header is line 1) and its fields by required column.</summary>
    public sealed class Row(int line, string[] fields, int[] columnIndex)
    {
        public int Line { get; } = line;

        /// <summary>The value of column <paramref name="column"/>: an index into the required columns, then the optional ones.</summary>
        public string this[int column] => fields[columnIndex[column]];
    }

    /// <summary>
    /// Reads <paramref name="csvPath"/>: <paramref name="columns"/> must all be in its header,
    /// <paramref name="optionalColumns"/> may be (<see cref="Row"/> indexes them after the required ones; an absent
    /// one reads as ""). <paramref name="expected"/> says what the file should be, for the message when it is missing.
    /// Returns the reasons of the rows skipped.
    /// </summary>
    public static IReadOnlyList<string> Read(string csvPath, IReadOnlyList<string> columns, string expected,
        Func<Row, string?> checkRow, bool skipBad, Action<string>? log, IReadOnlyList<string>? optionalColumns = null)
    {
        var csvFile = new FileInfo(csvPath);
        if (!csvFile.Exists)
            throw new DatasetException($"{csvPath}: metadata file does not exist (expected {expected})");
        if (csvFile.Length > MaxCsvBytes)
            throw new DatasetException($"{csvPath}: {csvFile.Length} bytes, more than the {MaxCsvBytes >> 20} MiB a metadata file may have");

        var skipped = new List<string>();
        try
        {
            using var csv = CsvReader.FromFile(csvPath, new CsvReaderOptions
            {
                Separator = ',',
                TrimWhitespace = true,
                TrackLineNumbers = true,
                MalformedData = CsvMalformedDataHandling.Throw,
                MaxRecordSize = MaxRecordBytes,
            });
            var header = csv.Headers.ToArray();
            var columnIndex = new int[columns.Count];
            for (int c = 0; c < columns.Count; c++)
            {
                columnIndex[c] = Array.IndexOf(header, columns[c]);
                if (columnIndex[c] < 0)
                    throw new DatasetException(
                        $"{csvPath}: missing column '{columns[c]}' (header has {Shown(string.Join(", ", header), MaxShownHeader)}; expected {string.Join(", ", columns)})");
            }
            var optional = (optionalColumns ?? []).Select(name => Array.IndexOf(header, name)).ToArray();

            while (csv.Read())
            {
                int line = (int)csv.LineNumber;
                var fields = new string[csv.FieldCount + 1]; // the extra field is "", what an absent optional column reads
                for (int f = 0; f < csv.FieldCount; f++)
                    fields[f] = csv.GetString(f);
                fields[^1] = "";
                int[] indices = [.. columnIndex, .. optional.Select(i => i < 0 || i >= csv.FieldCount ? csv.FieldCount : i)];
                var problem = csv.FieldCount < columnIndex.Max() + 1
                    ? $"has {csv.FieldCount} fields, expected at least {columnIndex.Max() + 1} (columns {string.Join(", ", columns)})"
                    : checkRow(new Row(line, fields, indices));
                if (problem is null)
                    continue;
                var reason = $"{csvPath} row {line}: {problem}";
                if (!skipBad)
                    throw new DatasetException(reason);
                skipped.Add(reason);
                log?.Invoke($"skipping bad row: {reason}");
            }
        }
        catch (CsvFormatException e)
        {
            throw new DatasetException($"{csvPath} row {e.LineNumber}: malformed CSV ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new DatasetException($"{csvPath}: cannot be read ({e.Message})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DatasetException($"{csvPath}: cannot be read (permission denied: {e.Message})", e);
        }
        return skipped;
    }

    /// <summary>A value as an error quotes it: control characters escaped and long values cut, so that a damaged
    /// field (a 70,000-character run, a quoted line break) still gives a one-line message of readable length.</summary>
    public static string Shown(string value, int maxLength = MaxShownField)
    {
        var shown = string.Concat(value.Take(maxLength).Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
        return value.Length > maxLength ? $"{shown}... ({value.Length} characters)" : shown;
    }

    /// <summary>Whether <paramref name="name"/> is one file name with no folder part (what a metadata row may name).</summary>
    public static bool IsPlainFileName(string name) =>
        name.Length > 0 && Path.GetFileName(name) == name && name is not ("." or "..")
        && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0;
}
