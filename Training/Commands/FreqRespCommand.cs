using System.CommandLine;
using EnvNet.Kernels;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.FilterBank;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet freqresp --checkpoint FILE [--out DIR]</c>: the learned filter bank of one checkpoint, recorded
/// as training records it. Several checkpoints into one folder accumulate, and the animation covers them all.</summary>
public static class FreqRespCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Option<string?>("--checkpoint") { HelpName = "FILE", Description = "Weights file (fold-K/best.safetensors or last.safetensors of a run)." };
        var output = new Option<string>("--out") { HelpName = "DIR", Description = "Folder for freqresp.csv, freqresp_summary.csv and freqresp/*.png|gif.", DefaultValueFactory = _ => "." };
        var batch = new Option<int>("--batch") { HelpName = "N", Description = "Tones per forward pass.", DefaultValueFactory = _ => 50 };
        var accelerator = CommonOptions.Accelerator();
        var command = new Command("freqresp",
            "Frequency response of a checkpoint's learned filter bank (feature_conv) to 200 log-spaced tones: CSV, heatmap, centre frequencies against mel.")
        {
            checkpoint, output, batch, accelerator,
        };
        command.SetAction(parsed =>
        {
            var acceleratorErrors = new List<string>();
            var choice = TrainOptionsValidator.ParseAccelerator(parsed.GetValue(accelerator), acceleratorErrors);
            var failures = OptionChecks.Failures(
                OptionChecks.ExistingFile("--checkpoint", parsed.GetValue(checkpoint), "a .safetensors checkpoint"),
                OptionChecks.Positive("--batch", parsed.GetValue(batch), "number of tones"),
                OptionChecks.WritableFolder("--out", parsed.GetValue(output)!),
                acceleratorErrors.FirstOrDefault());
            if (failures.Count > 0)
            {
                foreach (var failure in failures) context.UsageError(failure);
                return ExitCodes.Usage;
            }
            return Run(context, parsed.GetValue(checkpoint)!, parsed.GetValue(output)!, parsed.GetValue(batch), choice ?? AcceleratorChoice.Auto);
        });
        return command;
    }

    private static int Run(CliContext context, string checkpointPath, string outDir, int batch, AcceleratorChoice accelerator)
    {
        // Two processes appending to one freqresp.csv would interleave their epochs.
        using var folderLock = RunFolderLock.Take(Path.GetFullPath(outDir), "--out", "envnet freqresp");
        using var device = ComputeDevice.Create(accelerator);
        var (model, info) = ModelCheckpoint.LoadModel(checkpointPath, device, batch);
        using (model)
        {
            var sweep = FrequencyResponseProbe.DefaultSweep(model.Config);
            for (var i = 0; i < model.FrontEnds.Count; i++)
            {
                var frontEnd = model.FrontEnds.Count > 1 ? model.FrontEnds[i].FrontEnd.Name : null;
                var response = FrequencyResponseProbe.Measure(model, sweep, i);
                var recorder = new FilterBankRecorder(outDir, frontEnd);
                var summary = recorder.Record(info.Fold, info.Epoch, response, outDir);
                var animation = recorder.WriteAnimation(info.Fold, outDir);

                context.Out.WriteLine(
                    $"{info.Model}{(frontEnd is null ? "" : " " + frontEnd)} (fold {info.Fold}, epoch {info.Epoch}) on {device.Type} {device.Name}: " +
                    $"{response.Filters} filters, {response.Frequencies} tones {response.FrequenciesHz[0]:0.#}-{response.FrequenciesHz[^1]:0.#} Hz");
                context.Out.WriteLine(
                    $"mel correlation {summary.MelCorrelation:F3}, {summary.MelRmsOctaves:F2} octaves RMS from a {response.Filters}-band mel bank; " +
                    $"centres {summary.LowestCentreHz:F0}-{summary.HighestCentreHz:F0} Hz (median {summary.MedianCentreHz:F0}), " +
                    $"spread {summary.CentreSpreadOctaves:F2} octaves, {summary.FlatFilters} flat filters");
                context.Out.WriteLine($"responses: {Path.GetFullPath(recorder.ResponsePath)}");
                context.Out.WriteLine($"summary:   {Path.GetFullPath(recorder.SummaryPath)}");
                context.Out.WriteLine($"heatmap:   {Path.GetFullPath(FilterBankRecorder.HeatmapPath(outDir, info.Epoch, frontEnd))}");
                context.Out.WriteLine($"animation: {Path.GetFullPath(animation)} ({recorder.RecordedEpochs(info.Fold)} recorded epochs of fold {info.Fold})");
            }
            return ExitCodes.Success;
        }
    }
}
