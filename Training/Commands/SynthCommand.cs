using System.CommandLine;
using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet synth</c>: writes a synthetic twin of a dataset layout (same layout, generated sounds).</summary>
public static class SynthCommand
{
    /// <summary>The layouts a twin can be written in: every dataset kind but a CSV list, which names files of another.</summary>
    public static IReadOnlyList<DatasetKind> Layouts { get; } = [DatasetKind.Esc50, DatasetKind.UrbanSound8K, DatasetKind.Folders];

    public static Command Create(CliContext context)
    {
        var output = new Option<string?>("--out") { HelpName = "DIR", Description = "Folder to create." };
        var layout = new Option<string>("--layout")
        {
            HelpName = string.Join("|", Layouts),
            Description = $"esc50: {DatasetKind.Esc50.Layout}, 5 s 44.1 kHz 16-bit mono clips; urbansound8k: {DatasetKind.UrbanSound8K.Layout}, " +
                          "clips of 0.25 to 4 s at 8 to 96 kHz, 8/16/24-bit PCM and 32-bit float, mono and stereo; folders: one sub-folder per class, clips as urbansound8k's.",
            DefaultValueFactory = _ => DatasetKind.Esc50.Name,
        };
        var classes = new Option<int?>("--classes") { HelpName = "N", Description = $"Number of classes (esc50 1-50, urbansound8k 2-{SyntheticTwins.UrbanSound8KClasses.Count}, folders 2-50). {CommonOptions.Default("esc50 50, urbansound8k 10, folders 10")}" };
        var clips = new Option<int>("--clips-per-class-per-fold") { HelpName = "N", Description = $"Clips of each class in each fold (ESC-50 has 8; folders, which have no folds: {FoldSplit.DefaultFoldCount} x N clips per class).", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { HelpName = "N", Description = "Seed of the generated sounds.", DefaultValueFactory = _ => 0 };
        var command = new Command("synth", "Generate a synthetic dataset twin: the layout and metadata of ESC-50, UrbanSound8K or class folders, with generated sounds.")
        {
            output, layout, classes, clips, seed,
        };
        command.SetAction(parsed =>
        {
            var outDir = parsed.GetValue(output);
            var kind = DatasetKind.Parse(parsed.GetValue(layout)!) is { } parsedKind && Layouts.Contains(parsedKind) ? parsedKind : null;
            var classCount = parsed.GetValue(classes) ?? (kind == DatasetKind.Esc50 ? Esc50Metadata.MaxTarget + 1 : SyntheticEsc50.DefaultClasses);
            var (minClasses, maxClasses) = kind == DatasetKind.Esc50 ? (1, Esc50Metadata.MaxTarget + 1)
                : kind == DatasetKind.UrbanSound8K ? (2, SyntheticTwins.UrbanSound8KClasses.Count) : (2, Esc50Metadata.MaxTarget + 1);
            var failures = OptionChecks.Failures(
                outDir is null ? "--out: expected the folder to write; the option is required." : OptionChecks.WritableFolder("--out", outDir),
                kind is null ? $"--layout: expected one of {string.Join(", ", Layouts)}; got '{parsed.GetValue(layout)}'." : null,
                kind is null ? null : OptionChecks.InRange("--classes", classCount, minClasses, maxClasses, "a number of classes"),
                OptionChecks.Positive("--clips-per-class-per-fold", parsed.GetValue(clips), "number of clips"));
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }
            var perFold = parsed.GetValue(clips);
            var total = classCount * perFold * kind!.FoldCount(FoldSplit.DefaultFoldCount);
            RunConsole.Phase("generating synthetic clips", total, context.Error.WriteLine, report =>
            {
                Action<int> done = count => report(count, null);
                if (kind == DatasetKind.Esc50) SyntheticEsc50.Write(outDir!, classCount, perFold, parsed.GetValue(seed), done);
                else if (kind == DatasetKind.UrbanSound8K) SyntheticTwins.WriteUrbanSound8K(outDir!, classCount, perFold, parsed.GetValue(seed), done);
                else SyntheticTwins.WriteClassFolders(outDir!, classCount, perFold * FoldSplit.DefaultFoldCount, parsed.GetValue(seed), done);
            });
            context.Out.WriteLine($"wrote {Wording.Count(total, "clip")} of {Wording.Count(classCount, "class", "classes")} to {Path.GetFullPath(outDir!)}");
            return ExitCodes.Success;
        });
        return command;
    }
}
