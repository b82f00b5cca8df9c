using System.CommandLine;
using EnvNet.Training.Results;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet report</c>: one summary from runs whose folds were trained as separate jobs.</summary>
public static class ReportCommand
{
    public static Command Create(CliContext context)
    {
        var runs = new Argument<string[]>("RUN_DIR") { Description = $"Run folders (each with {RunFolder.RunFileName} and {RunFolder.MetricsFileName}).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { HelpName = "DIR", Description = $"Folder for the merged {RunFolder.MetricsFileName}, {RunFolder.SummaryFileName}, {RunFolder.ConfusionFileName} and plot.", DefaultValueFactory = _ => "report" };
        var command = new Command("report", "Merge the folds of several runs (e.g. one fold per job) into one summary.") { runs, output };
        command.SetAction(parsed =>
        {
            var dirs = parsed.GetValue(runs)!;
            var failures = OptionChecks.Failures(dirs
                .Select(d => OptionChecks.ExistingFolder("RUN_DIR", d, "a run folder")
                    ?? OptionChecks.ExistingFile("RUN_DIR", Path.Combine(d, RunFolder.RunFileName), $"a run folder holding {RunFolder.RunFileName}")
                    ?? OptionChecks.ExistingFile("RUN_DIR", Path.Combine(d, RunFolder.MetricsFileName), $"a run folder holding {RunFolder.MetricsFileName}"))
                .Append(OptionChecks.WritableFolder("--out", parsed.GetValue(output)!))
                .Concat(dirs.Select(d => OptionChecks.NotAnInput("--out", parsed.GetValue(output)!, ("RUN_DIR", d))))
                .ToArray());
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }

            var outDir = Path.GetFullPath(parsed.GetValue(output)!);
            using var reportLock = RunFolderLock.Take(outDir, "--out", "envnet report");
            var merged = RunReport.Write(dirs, outDir);
            foreach (var warning in merged.Warnings) context.Error.WriteLine($"warning: {warning}");
            context.Out.WriteLine("fold  epochs  final accuracy  best accuracy (epoch)");
            foreach (var f in merged.Folds)
                context.Out.WriteLine($"{f.Fold,4}  {f.Epochs,6}  {f.FinalAccuracy,14:P1}  {f.BestAccuracy,13:P1} ({f.BestEpoch})");
            var (mean, std) = RunSummary.MeanAndStd(merged.Folds.Select(f => f.FinalAccuracy).ToList());
            if (merged.Folds.Count > 0)
                context.Out.WriteLine($"mean final accuracy {mean:P1}{(std is { } s ? $" ± {s:P1} (sample std over {merged.Folds.Count} folds)" : "")}");
            context.Out.WriteLine($"written to {outDir}");
            return ExitCodes.Success;
        });
        return command;
    }
}
