using System.CommandLine;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet cache</c>: what the cache folder holds (decoded clips per dataset and sample rate, generated
/// data sets) and how large it is; <c>envnet cache clear</c> removes all of it or one dataset's part. Only what envnet
/// itself writes is touched, so a cache folder pointed at a shared place loses nothing else.</summary>
public static class CacheCommand
{
    /// <summary>One dataset's entry: its clips at every sample rate, or a generated data set, or the clip files an
    /// earlier version kept directly in the cache folder.</summary>
    /// <param name="Dataset">The dataset folder's own name: <paramref name="Name"/> without the hash of its path.</param>
    public sealed record CacheEntry(string Name, string Dataset, string Path, string Source, IReadOnlyList<(string Rate, int Clips, long Bytes)> Parts)
    {
        public long Bytes => Parts.Sum(p => p.Bytes);
    }

    private const string EarlierLayout = "earlier-layout";

    public static Command Create(CliContext context)
    {
        var cache = CommonOptions.Cache();
        cache.Recursive = true;
        var dataset = new Option<string?>("--dataset")
        {
            HelpName = "NAME", Description = "Remove only this dataset's part: its name as 'envnet cache' lists it, its name without the hash, or its source folder.",
        };
        var clear = new Command("clear", "Remove the decoded clips and generated data in the cache folder (decoded again when next needed).") { dataset };
        var command = new Command("cache", "List what the cache folder holds: decoded clips per dataset and sample rate, generated data, sizes.") { cache, clear };

        command.SetAction(parsed =>
        {
            var cacheDir = Path.GetFullPath(parsed.GetValue(cache) ?? CacheFolder.Default());
            if (CheckCacheFolder(cacheDir) is { } problem) return context.UsageError(problem);
            var entries = List(cacheDir);
            context.Out.WriteLine($"cache folder {cacheDir}");
            if (entries.Count == 0)
            {
                context.Out.WriteLine("nothing cached yet");
                return ExitCodes.Success;
            }
            var width = Math.Max("dataset".Length, entries.Max(e => e.Name.Length));
            context.Out.WriteLine($"{"dataset".PadRight(width)}  {"rate",-10} {"clips",6} {"size",10}  source");
            foreach (var entry in entries)
                foreach (var (rate, clips, bytes) in entry.Parts)
                    context.Out.WriteLine($"{entry.Name.PadRight(width)}  {rate,-10} {clips,6} {Size(bytes),10}  {entry.Source}");
            context.Out.WriteLine($"total {Size(entries.Sum(e => e.Bytes))}; 'envnet cache clear' removes it all, 'envnet cache clear --dataset NAME' one dataset.");
            return ExitCodes.Success;
        });

        clear.SetAction(parsed =>
        {
            var cacheDir = Path.GetFullPath(parsed.GetValue(cache) ?? CacheFolder.Default());
            if (CheckCacheFolder(cacheDir) is { } problem) return context.UsageError(problem);
            var entries = List(cacheDir);
            var name = parsed.GetValue(dataset);
            var chosen = name is null ? entries : entries.Where(e => Matches(e, name)).ToList();
            if (name is not null && chosen.Count == 0)
                return context.UsageError(
                    $"--dataset: expected one of {(entries.Count == 0 ? "the cached datasets (there are none)" : string.Join(", ", entries.Select(e => e.Name)))}; got '{name}'.");
            foreach (var entry in chosen)
            {
                if (entry.Name == EarlierLayout)
                    foreach (var file in Directory.EnumerateFiles(cacheDir, "*.clip")) File.Delete(file);
                else Directory.Delete(entry.Path, recursive: true);
                context.Out.WriteLine($"removed {entry.Name} ({Size(entry.Bytes)})");
            }
            context.Out.WriteLine($"freed {Size(chosen.Sum(e => e.Bytes))} in {cacheDir}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The cache folder may be missing (nothing cached yet) but not be a file or lie under one.</summary>
    private static string? CheckCacheFolder(string cacheDir)
    {
        try
        {
            OptionChecks.NearestExistingFolder(cacheDir);
            return null;
        }
        catch (IOException e)
        {
            return $"--cache: expected a cache folder; {e.Message}.";
        }
    }

    public static IReadOnlyList<CacheEntry> List(string cacheDir)
    {
        var entries = new List<CacheEntry>();
        if (!Directory.Exists(cacheDir)) return entries;
        var clipsRoot = Path.Combine(cacheDir, CacheFolder.ClipsFolder);
        if (Directory.Exists(clipsRoot))
            foreach (var datasetDir in Directory.EnumerateDirectories(clipsRoot).Order(StringComparer.Ordinal))
            {
                var sourceFile = Path.Combine(datasetDir, CacheFolder.SourceFile);
                var source = File.Exists(sourceFile) ? File.ReadAllText(sourceFile).Trim() : "(unknown source)";
                var rates = Directory.EnumerateDirectories(datasetDir).Order(StringComparer.Ordinal)
                    .Select(rateDir => (Rate(Path.GetFileName(rateDir)), Files(rateDir, "*.clip").Count(), Files(rateDir, "*").Sum(f => f.Length)))
                    .ToList();
                var name = Path.GetFileName(datasetDir);
                entries.Add(new CacheEntry(name, name.Contains('-') ? name[..name.LastIndexOf('-')] : name, datasetDir, source, rates));
            }
        foreach (var generated in Directory.EnumerateDirectories(cacheDir, CacheFolder.SyntheticPrefix + "*").Order(StringComparer.Ordinal))
            entries.Add(new CacheEntry(Path.GetFileName(generated), Path.GetFileName(generated), generated, "(generated data of the embedded default)",
                [("generated", Files(generated, "*.wav").Count(), Files(generated, "*").Sum(f => f.Length))]));
        var earlier = Directory.EnumerateFiles(cacheDir, "*.clip").Select(f => new FileInfo(f)).ToList();
        if (earlier.Count > 0)
            entries.Add(new CacheEntry(EarlierLayout, EarlierLayout, cacheDir, "(decoded clips of an earlier envnet, directly in the cache folder)",
                [("mixed", earlier.Count, earlier.Sum(f => f.Length))]));
        return entries;
    }

    private static bool Matches(CacheEntry entry, string name) =>
        entry.Name == name || entry.Dataset == name || entry.Source == Path.TrimEndingDirectorySeparator(Path.GetFullPath(name));

    /// <summary>"16000-hz" as "16000 Hz".</summary>
    private static string Rate(string folder) => folder.EndsWith("-hz", StringComparison.Ordinal) ? $"{folder[..^3]} Hz" : folder;

    private static IEnumerable<FileInfo> Files(string dir, string pattern) =>
        Directory.EnumerateFiles(dir, pattern, SearchOption.AllDirectories).Select(f => new FileInfo(f));

    private static string Size(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB"
        : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):F1} MiB"
        : $"{bytes / 1024.0:F0} KiB";
}
