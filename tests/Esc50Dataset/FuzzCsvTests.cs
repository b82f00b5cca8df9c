using System.Text;
using CsCheck;
using EnvNet.Esc50Dataset;

namespace EnvNet.Tests;

/// <summary>
/// Fuzzes <see cref="Esc50Metadata.Load"/> with CsCheck: stacked mutations of the real meta/esc50.csv of the test
/// sample in tests/data (columns dropped, added, renamed, swapped or repeated; fields set to bad numbers, quotes, huge
/// or odd text; rows dropped, repeated, emptied, shortened or lengthened) followed by byte-level damage (byte order
/// marks, other line endings, truncation, flipped bytes, inserted text), plus random CSV-like and random Unicode text.
/// Each input, with and without skipBad, must load to valid metadata or get a <see cref="DatasetException"/> naming
/// the CSV file, within the bounds of <see cref="FuzzHarness"/>. The seed changes every run; a failure prints what
/// reproduces it.
/// </summary>
[TestClass]
public sealed class FuzzCsvTests
{
    private const int Inputs = 3_000;

    private static readonly string[] BadFields =
    [
        "", " ", "-1", "0", "5", "6", "49", "50", "1.5", "1e3", "0x10", "+1", " 2 ", "99999999999999999999", "NaN",
        "True", "false", "TRUE", "yes", "\"quoted\"", "\"unterminated", "a\"b", "\"\"", "\"a,b\"", "\"a\nb\"", "a\tb",
        "été", "\0", "../x.wav", "audio/1-100032-A-0.wav", "/etc/passwd", ".", "..", "con", "1-100032-A-0.wav",
        "1-100032-A-0", "\uFEFF", "\uD800", "\r", "\n", ",", new string('x', 1000), new string('x', 70_000),
    ];

    private static readonly string[] ColumnNames = [.. Esc50Metadata.Columns, "Filename", "fold ", "", "extra", "\uFEFFfilename", "\"fold\""];

    public TestContext TestContext { get; set; } = null!;

    private enum TableMutationKind
    {
        DropColumn, AddColumn, RenameColumn, SwapColumns, SetField, SetHeaderField, DropRow, DuplicateRow,
        InsertEmptyRow, ShortenRow, LengthenRow, KeepFirstRows,
    }

    private enum TextMutationKind { Utf8Bom, Utf16Bom, CrLf, CrOnly, NoFinalNewline, Truncate, SetByte, InsertText, RemoveRange }

    private sealed record TableMutation(TableMutationKind Kind, uint Where, uint Extra, string Text)
    {
        public override string ToString() => $"{Kind}(where {Where}, extra {Extra}, '{Shorten(Text)}')";
    }

    private sealed record TextMutation(TextMutationKind Kind, uint Where, uint Extra, string Text)
    {
        public override string ToString() => $"{Kind}(where {Where}, extra {Extra}, '{Shorten(Text)}')";
    }

    private sealed record CsvInput(string Description, byte[] Bytes, bool SkipBad);

    [TestMethod]
    public void MutatedAndRandomCsvFilesLoadOrGetClearErrors()
    {
        var original = File.ReadAllText(Path.Combine(Esc50TestData.SampleDir, Esc50Metadata.CsvRelativePath));
        var table = original.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(',')).ToArray();

        var csvChars = Gen.Char["abcdefgxyz0123456789,,,\"\"\n\r \t.-_AT"];
        var text = Gen.Frequency(
            (4, Gen.OneOf(BadFields)),
            (1, csvChars.Array[0, 24].Select(c => new string(c))),
            (1, Gen.String[0, 24]));
        var tableMutation = Gen.Select(Gen.Enum<TableMutationKind>(), Gen.UInt, Gen.UInt, text, (k, w, e, t) => new TableMutation(k, w, e, t));
        var textMutation = Gen.Select(Gen.Enum<TextMutationKind>(), Gen.UInt, Gen.UInt, text, (k, w, e, t) => new TextMutation(k, w, e, t));
        var mutated = Gen.Select(tableMutation.Array[0, 4], textMutation.Array[0, 2], Gen.Bool, (tms, xms, skipBad) =>
            new CsvInput($"esc50.csv with {string.Join(", ", tms.AsEnumerable())}; {string.Join(", ", xms.AsEnumerable())}",
                xms.Aggregate(Encoding.UTF8.GetBytes(Serialise(tms.Aggregate(table, ApplyToTable))), ApplyToText), skipBad));
        var randomText = Gen.Select(Gen.Bool, Gen.Frequency((3, csvChars), (1, Gen.Char)).Array[0, 400], Gen.Bool, (withHeader, chars, skipBad) =>
        {
            var body = new string(chars);
            return new CsvInput($"{(withHeader ? "header and " : "")}random text '{Shorten(body)}'",
                Encoding.UTF8.GetBytes(withHeader ? $"{string.Join(",", Esc50Metadata.Columns)}\n{body}" : body), skipBad);
        });
        var inputs = Gen.Frequency((4, mutated), (1, randomText));

        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Sub("meta"));
        Directory.CreateDirectory(dir.Sub(Esc50Metadata.AudioFolder));
        foreach (var row in table.Skip(1))
            File.WriteAllBytes(Path.Combine(dir.Sub(Esc50Metadata.AudioFolder), row[0]), []); // Load only checks that they exist
        var csvPath = Path.Combine(dir.Path, Esc50Metadata.CsvRelativePath);

        int loaded = 0, rejected = 0, skippedRows = 0;
        inputs.Sample(input =>
        {
            File.WriteAllBytes(csvPath, input.Bytes);
            var (metadata, error) = FuzzHarness.Run(input.Description, 64L * input.Bytes.Length + (16 << 20),
                () => Esc50Metadata.Load(dir.Path, input.SkipBad));
            if (error is not null)
            {
                FuzzHarness.AssertClearMessage(error.Message, csvPath, input.Description);
                rejected++;
                return;
            }
            CheckLoaded(metadata!, input, csvPath);
            loaded++;
            skippedRows += metadata!.SkippedReasons.Count;
        }, iter: Inputs, threads: 1, print: input => $"{input.Description}, skipBad {input.SkipBad}");

        FuzzHarness.Report(TestContext, $"fuzzed {loaded + rejected} CSV inputs: {loaded} loaded ({skippedRows} bad rows skipped), {rejected} rejected");
        Assert.AreEqual(Inputs, loaded + rejected);
        Assert.IsTrue(loaded > Inputs / 20 && rejected > Inputs / 20, "the inputs should mix loadable and broken files");
    }

    // What the fuzzer found, kept as fixed cases: errors quoted whole fields, so a 60,000-character field made a
    // 60 KB message and a quoted line break split the message over two lines.
    [TestMethod]
    public void FuzzFindingsStayFixed()
    {
        using var dir = new TempDir();
        var huge = new string('x', 60_000);
        Esc50Folder.Write(dir.Path, ["1-2-A-0.wav,1,0,dog,False,2,A", $"1-3-A-0.wav,1,0,{huge},False,3,A"], [("1-2-A-0.wav", []), ("1-3-A-0.wav", [])]);
        var message = Assert.ThrowsExactly<DatasetException>(() => Esc50Metadata.Load(dir.Path)).Message;
        StringAssert.Contains(message, $"row 3: category '{huge[..60]}... (60000 characters)' of 1-3-A-0.wav differs from 'dog'");
        Assert.IsLessThan(400, message.Length);

        Esc50Folder.Write(dir.Path, ["1-2-A-0.wav,1,0,dog,False,2,A", "1-3-A-0.wav,1,0,\"do\ng\",False,3,A"], []);
        message = Assert.ThrowsExactly<DatasetException>(() => Esc50Metadata.Load(dir.Path)).Message;
        StringAssert.Contains(message, "row 3: category 'do\\u000Ag' of 1-3-A-0.wav differs from 'dog' given to target 0 at row 2");
    }

    private static void CheckLoaded(Esc50Metadata metadata, CsvInput input, string csvPath)
    {
        var clips = metadata.Clips;
        Assert.IsNotEmpty(clips, input.Description);
        foreach (var clip in clips)
        {
            Assert.IsTrue(clip.Fold is >= 1 and <= Esc50Metadata.Folds && clip.Target is >= 0 and <= Esc50Metadata.MaxTarget
                && clip.Category.Length > 0 && File.Exists(metadata.AudioPath(clip)), $"{input.Description}: {clip}");
            Assert.AreEqual(clip.Category, metadata.ClassNames[metadata.LabelOf(clip)], input.Description);
        }
        Assert.AreEqual(clips.Count, clips.Select(c => c.FileName).Distinct().Count(), input.Description);
        Assert.AreEqual(clips.Select(c => c.Target).Distinct().Count(), metadata.ClassCount, input.Description);
        if (!input.SkipBad)
            Assert.IsEmpty(metadata.SkippedReasons, input.Description);
        foreach (var reason in metadata.SkippedReasons)
            FuzzHarness.AssertClearMessage(reason, $"{csvPath} row ", input.Description);
        try
        {
            Assert.AreEqual(Esc50Metadata.Esc10ClassCount, metadata.Esc10().ClassCount, input.Description);
        }
        catch (DatasetException e)
        {
            FuzzHarness.AssertClearMessage(e.Message, csvPath, input.Description);
        }
    }

    private static string[][] ApplyToTable(string[][] table, TableMutation m)
    {
        var rows = table.Select(r => r.ToArray()).ToList();
        int Row() => (int)(m.Where % (uint)rows.Count);
        int Column(string[] row, uint pick) => (int)(pick % (uint)Math.Max(row.Length, 1));
        if (rows.Count == 0)
            return [];
        var row = rows[Row()];
        switch (m.Kind)
        {
            case TableMutationKind.DropColumn:
                int dropped = Column(rows[0], m.Extra);
                return rows.Select(r => r.Where((_, c) => c != dropped).ToArray()).ToArray();
            case TableMutationKind.AddColumn:
                int added = (int)(m.Extra % (uint)(rows[0].Length + 1));
                return rows.Select((r, i) =>
                {
                    int at = Math.Min(added, r.Length);
                    return (string[])[.. r[..at], i == 0 ? ColumnNames[m.Where % ColumnNames.Length] : m.Text, .. r[at..]];
                }).ToArray();
            case TableMutationKind.RenameColumn when rows[0].Length > 0:
                rows[0][Column(rows[0], m.Extra)] = ColumnNames[m.Where % ColumnNames.Length];
                return [.. rows];
            case TableMutationKind.SwapColumns:
                int a = Column(rows[0], m.Where), b = Column(rows[0], m.Extra);
                foreach (var r in rows.Where(r => a < r.Length && b < r.Length))
                    (r[a], r[b]) = (r[b], r[a]);
                return [.. rows];
            case TableMutationKind.SetField when row.Length > 0:
                row[Column(row, m.Extra)] = m.Text;
                return [.. rows];
            case TableMutationKind.SetHeaderField when rows[0].Length > 0:
                rows[0][Column(rows[0], m.Extra)] = m.Text;
                return [.. rows];
            case TableMutationKind.DropRow:
                rows.RemoveAt(Row());
                return [.. rows];
            case TableMutationKind.DuplicateRow:
                rows.Insert((int)(m.Extra % (uint)(rows.Count + 1)), row.ToArray());
                return [.. rows];
            case TableMutationKind.InsertEmptyRow:
                rows.Insert((int)(m.Extra % (uint)(rows.Count + 1)), m.Extra % 2 == 0 ? [] : [""]);
                return [.. rows];
            case TableMutationKind.ShortenRow:
                rows[Row()] = row[..Column(row, m.Extra)];
                return [.. rows];
            case TableMutationKind.LengthenRow:
                rows[Row()] = [.. row, .. Enumerable.Repeat(m.Text, (int)(m.Extra % 3) + 1)];
                return [.. rows];
            case TableMutationKind.KeepFirstRows:
                return [.. rows.Take((int)(m.Extra % 4))];
            default:
                return [.. rows];
        }
    }

    private static string Serialise(string[][] table) => string.Concat(table.Select(row => string.Join(",", row) + "\n"));

    private static byte[] ApplyToText(byte[] csv, TextMutation m)
    {
        int At() => (int)(m.Where % (uint)(csv.Length + 1));
        var text = Encoding.UTF8.GetString(csv);
        return m.Kind switch
        {
            TextMutationKind.Utf8Bom => [0xEF, 0xBB, 0xBF, .. csv],
            TextMutationKind.Utf16Bom => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)],
            TextMutationKind.CrLf => Encoding.UTF8.GetBytes(text.Replace("\n", "\r\n")),
            TextMutationKind.CrOnly => Encoding.UTF8.GetBytes(text.Replace("\n", "\r")),
            TextMutationKind.NoFinalNewline => Encoding.UTF8.GetBytes(text.TrimEnd('\n')),
            TextMutationKind.Truncate => csv[..At()],
            TextMutationKind.SetByte when csv.Length > 0 => SetByte(csv, At() % csv.Length, (byte)m.Extra),
            TextMutationKind.InsertText => [.. csv.AsSpan(0, At()), .. Encoding.UTF8.GetBytes(m.Text), .. csv.AsSpan(At())],
            TextMutationKind.RemoveRange => [.. csv.AsSpan(0, At()), .. csv.AsSpan(Math.Min(csv.Length, At() + (int)(m.Extra % 200)))],
            _ => csv,
        };
    }

    private static byte[] SetByte(byte[] bytes, int at, byte value)
    {
        var copy = bytes.ToArray();
        copy[at] = value;
        return copy;
    }

    private static string Shorten(string text) =>
        (text.Length > 40 ? $"{text[..40]}... ({text.Length} chars)" : text).Replace("\n", "\\n").Replace("\r", "\\r").Replace("\0", "\\0");
}
