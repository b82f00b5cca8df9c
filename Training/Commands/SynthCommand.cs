using System.CommandLine;
using EnvNet.Esc50Dataset;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet synth</c>: writes a synthetic twin of ESC-50 (same layout, generated sounds).</summary>
public static class SynthCommand
{
    public static Command Create(CliContext context)
    {
        var output = new Option<string?>("--out") { HelpName = "DIR", Description = $"Folder to create ({Esc50Metadata.CsvRelativePath} and {Esc50Metadata.AudioFolder}/)." };
        var classes = new Option<int>("--classes") { HelpName = "N", Description = "Number of classes (1-50).", DefaultValueFactory = _ => 50 };
        var clips = new Option<int>("--clips-per-class-per-fold") { HelpName = "N", Description = "Clips of each class in each of the 5 folds (ESC-50 has 8).", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { HelpName = "N", Description = "Seed of the generated sounds.", DefaultValueFactory = _ => 0 };
        var command = new Command("synth", "Generate a synthetic ESC-50 twin: same folder layout and metadata, 5 s 44.1 kHz WAVs of generated sounds.")
        {
            output, classes, clips, seed,
        };
        command.SetAction(parsed =>
        {
            var outDir = parsed.GetValue(output);
            var failures = OptionChecks.Failures(
                outDir is null ? "--out: expected the folder to write; the option is required." : OptionChecks.WritableFolder("--out", outDir),
                OptionChecks.InRange("--classes", parsed.GetValue(classes), 1, 50, "a number of classes"),
                OptionChecks.Positive("--clips-per-class-per-fold", parsed.GetValue(clips), "number of clips"));
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }
            var total = parsed.GetValue(classes) * parsed.GetValue(clips) * Esc50Metadata.Folds;
            RunConsole.Phase("generating synthetic clips", total, context.Error.WriteLine, report =>
                SyntheticEsc50.Write(outDir!, parsed.GetValue(classes), parsed.GetValue(clips), parsed.GetValue(seed), done => report(done, null)));
            context.Out.WriteLine($"wrote {Wording.Count(total, "clip")} of {Wording.Count(parsed.GetValue(classes), "class", "classes")} to {Path.GetFullPath(outDir!)}");
            return ExitCodes.Success;
        });
        return command;
    }
}
