using System.CommandLine;
using System.Globalization;
using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;
using EnvNet.Network;
using EnvNet.Training.FilterBank;
using EnvNet.Training.Run;
using static EnvNet.Training.Commands.CommonOptions;

namespace EnvNet.Training.Commands;

/// <summary><c>envnet train</c>: cross-validation on a dataset with the model's recipe (<see cref="Network.ModelDefinition.Recipe"/>), or the embedded default.</summary>
public static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<string?>("--data") { HelpName = "DIR", Description = $"Dataset folder or CSV list, recognised by its layout ({string.Join("; ", DatasetKind.All.Select(k => $"{k.Name}: {k.Layout}"))}). {Default("none: the embedded synthetic default, envnet-tiny on a generated twin of ESC-50")}" };
        var dataset = new Option<string?>("--dataset") { HelpName = string.Join("|", DatasetKind.All), Description = $"Read --data as this kind of dataset instead of recognising it. {Default("recognised from --data")}" };
        var subset = new Option<string?>("--subset") { HelpName = string.Join("|", Esc50Subset.All), Description = $"ESC-50 only: all 50 classes, or the 10-class ESC-10 subset. {Default(Esc50Subset.Esc50.Name)}" };
        var foldCount = new Option<int?>("--fold-count") { HelpName = "N", Description = $"Folds to make ({FoldSplit.MinFoldCount}-{FoldSplit.MaxFoldCount}) for class folders or a CSV list, stratified and seeded by --seed, recorded in the run's {FoldSplit.FileName}; ESC-50 (5) and UrbanSound8K (10) keep their own. {Default(FoldSplit.DefaultFoldCount.ToString(CultureInfo.InvariantCulture))}" };
        var folds = new Option<string?>("--folds") { HelpName = "K,K", Description = $"Validation folds to run, comma separated. {Default("every fold of the dataset; without --data 1")}" };
        var fold = new Option<int?>("--fold") { HelpName = "K", Description = "Run one fold only (1 to the dataset's fold count), e.g. as one job of an array." };
        var model = new Option<string?>("--model") { HelpName = CommonOptions.ModelValues, Description = $"Model ('envnet models' lists them with their recipes). {Default("envnet; without --data envnet-tiny")}" };
        var epochs = new Option<int?>("--epochs") { HelpName = "N", Description = $"Epochs per fold; with --resume, a larger number extends the run. {RecipeDefault(r => Invariant(r.Epochs), BetweenClassDoubling())}" };
        var batch = new Option<int?>("--batch") { HelpName = "N", Description = $"Clips per training batch. {RecipeDefault(r => Invariant(r.Batch))}" };
        var learningRate = new Option<double?>("--lr") { HelpName = "X", Description = $"Initial learning rate. {RecipeDefault(r => Invariant(r.LearningRate))}" };
        var learningRateSteps = new Option<string?>("--lr-steps") { HelpName = "F,F", Description = $"Fractions of the epochs after which the learning rate is divided by 10; 'none' for a constant rate. {RecipeDefault(r => r.LearningRateSteps.Count == 0 ? "none" : string.Join(",", r.LearningRateSteps.Select(s => Invariant(s))))}" };
        var warmupEpochs = new Option<int?>("--warmup-epochs") { HelpName = "N", Description = $"Train the first N epochs at a tenth of --lr. {RecipeDefault(r => Invariant(r.WarmupEpochs))}" };
        var betweenClass = new Option<bool>("--bc") { Description = "Between-class learning: train on mixes of two clips of different classes with soft targets (Tokozume, Ushiku & Harada, ICLR 2018)." };
        var strongAugment = new Option<bool>("--strong-augment") { Description = "Strong augmentation: a random time scale (up to 1.25x either way) and gain (±6 dB) per training example." };
        var momentum = new Option<double?>("--momentum") { HelpName = "X", Description = $"SGD's momentum (Nesterov or plain, as the recipe says) or Adam's β1. {RecipeDefault(r => Invariant(r.Momentum))}" };
        var weightDecay = new Option<double?>("--weight-decay") { HelpName = "X", Description = $"L2 weight decay. {RecipeDefault(r => Invariant(r.WeightDecay))}" };
        var testCrops = new Option<int?>("--test-crops") { HelpName = "N", Description = $"Evenly spaced crops averaged per validation clip. {RecipeDefault(r => Invariant(r.TestCrops))}" };
        var freqRespEvery = new Option<int?>("--freqresp-every") { HelpName = "N", Description = $"Record the learned filter bank's frequency response every N epochs and after the last (0: off): freqresp.csv, freqresp_summary.csv, fold-K/freqresp/. {Default("1")}" };
        var accelerator = CommonOptions.AcceleratorOrRunChoice();
        var seed = new Option<int?>("--seed") { HelpName = "N", Description = $"Seed of weights, data order and dropout. {Default("0")}" };
        var output = new Option<string?>("--out") { HelpName = "DIR", Description = $"Run folder. {Default("runs/MODEL-TIMESTAMP")}" };
        var cache = CommonOptions.Cache();
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint, with the options in its run.json (only --accelerator may change, and --epochs may grow)." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable audio files and metadata rows (listed in the log) instead of stopping." };

        var command = new Command("train", "Train EnvNet with k-fold cross-validation on ESC-50, UrbanSound8K or your own sounds (without --data: the embedded synthetic default).")
        {
            data, dataset, subset, foldCount, folds, fold, model, epochs, batch, learningRate, learningRateSteps, warmupEpochs, momentum, weightDecay,
            testCrops, betweenClass, strongAugment, freqRespEvery, accelerator, seed, output, cache, resume, skipBad,
        };
        command.SetAction(parsed => Run(context, new TrainArguments
        {
            Data = parsed.GetValue(data),
            Dataset = parsed.GetValue(dataset),
            FoldCount = parsed.GetValue(foldCount),
            Subset = parsed.GetValue(subset),
            Folds = parsed.GetValue(folds),
            Fold = parsed.GetValue(fold),
            Model = parsed.GetValue(model),
            Epochs = parsed.GetValue(epochs),
            Batch = parsed.GetValue(batch),
            LearningRate = parsed.GetValue(learningRate),
            LearningRateSteps = parsed.GetValue(learningRateSteps),
            WarmupEpochs = parsed.GetValue(warmupEpochs),
            Momentum = parsed.GetValue(momentum),
            WeightDecay = parsed.GetValue(weightDecay),
            TestCrops = parsed.GetValue(testCrops),
            FreqRespEvery = parsed.GetValue(freqRespEvery),
            Accelerator = parsed.GetValue(accelerator),
            Seed = parsed.GetValue(seed),
            Out = parsed.GetValue(output),
            Cache = parsed.GetValue(cache),
            Resume = parsed.GetValue(resume),
            SkipBad = parsed.GetValue(skipBad),
            BetweenClass = parsed.GetValue(betweenClass),
            StrongAugment = parsed.GetValue(strongAugment),
        }));
        return command;
    }

    /// <summary>A default of the model's recipe as the registry holds it (<see cref="ModelRegistry"/>), per group of
    /// models that share the value, e.g. "[default: the model's recipe: envnet, envnet-tiny 600; envnet-v2,
    /// envnet-v2-tiny 1000, on esc10 600; ...]". Without --data the embedded default's values apply instead.</summary>
    private static string RecipeDefault(Func<TrainingRecipe, string> value, string suffix = "") =>
        Default("the model's recipe: " + string.Join("; ", ModelRegistry.Models
            .GroupBy(m => (Esc50: value(m.RecipeFor(onEsc10: false, betweenClass: false)), Esc10: value(m.RecipeFor(onEsc10: true, betweenClass: false))))
            .Select(g => $"{string.Join(", ", g.Select(m => m.Name))} {g.Key.Esc50}" + (g.Key.Esc10 != g.Key.Esc50 ? $", on esc10 {g.Key.Esc10}" : ""))) + suffix);

    /// <summary>Which models' recipes --bc doubles the epochs of.</summary>
    private static string BetweenClassDoubling()
    {
        var doubled = ModelRegistry.Models.Where(m => m.Recipe.DoubleEpochsWithBetweenClass).Select(m => m.Name).ToList();
        return doubled.Count == ModelRegistry.Models.Count ? "; doubled with --bc"
            : doubled.Count == 0 ? "" : $"; doubled with --bc for {string.Join(", ", doubled)}";
    }

    private static string Invariant(double value) => value.ToString("G12", CultureInfo.InvariantCulture);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static int Run(CliContext context, TrainArguments arguments)
    {
        var now = DateTime.Now; // the default run folder's timestamp, the same for both checks
        var validated = TrainOptionsValidator.Validate(arguments, now);
        if (!validated.IsValid) return Refuse(context, validated.Errors);
        var outDir = validated.Value!.OutDir;

        var createdRunFolder = !Directory.Exists(outDir);
        int code;
        using (var runLock = TakeRunFolder(context, outDir, arguments.Resume))
        {
            if (runLock is null) return ExitCodes.Usage;
            // Checked again under the lock: another process may have started or extended a run in this folder
            // between the first check and the lock.
            validated = TrainOptionsValidator.Validate(arguments, now);
            if (!validated.IsValid) code = Refuse(context, validated.Errors);
            else
                using (var log = RunConsole.CreateLogger(outDir))
                    code = Train(context, validated.Value!, log, extended: arguments.Resume && arguments.Epochs is not null);
        }
        // Exit code 2 promises that nothing was done: a run refused once the device is known (a batch too large for
        // it) takes back the folder it created, which holds only its log and lock file.
        if (code == ExitCodes.Usage && createdRunFolder && Directory.Exists(outDir)
            && Directory.EnumerateFileSystemEntries(outDir).All(e => Path.GetFileName(e) is RunConsole.LogFileName or RunFolderLock.FileName))
            Directory.Delete(outDir, recursive: true);
        return code;
    }

    private static int Refuse(CliContext context, IReadOnlyList<string> errors)
    {
        foreach (var message in errors) context.UsageError(message);
        return ExitCodes.Usage;
    }

    /// <summary>The run folder's lock, or null (the refusal printed) when another process holds it.</summary>
    private static RunFolderLock? TakeRunFolder(CliContext context, string outDir, bool resume)
    {
        try
        {
            return RunFolderLock.Take(outDir, "--out", resume ? "envnet train --resume" : "envnet train");
        }
        catch (UsageException e)
        {
            context.UsageError(e.Message);
            return null;
        }
    }

    private static int Train(CliContext context, TrainOptions options, Serilog.ILogger log, bool extended)
    {
        if (options.Embedded)
            log.Information(
                "No --data given: this is the embedded default. It trains {Model} on a synthetic twin of ESC-50 ({Classes} classes of " +
                "generated sounds, {Clips} clips per class and fold) for {Epochs} {EpochsNoun} on {FoldsNoun} {Folds}, to show the whole pipeline " +
                "working without a GPU or the real data; its accuracy says nothing about real sounds. For the real recipe: " +
                "envnet train --data PATH/TO/ESC-50 (see README.md).",
                options.Model, EmbeddedDefault.Classes, EmbeddedDefault.ClipsPerClassPerFold, options.Epochs, Wording.Noun(options.Epochs, "epoch"),
                Wording.Noun(options.Folds.Length, "fold"), string.Join(",", options.Folds));
        log.Information("Run folder {RunDir}", options.OutDir);
        if (extended && options.EpochsBeforeExtension is [.., var before])
            log.Information("Extending the run from {EpochsBefore} to {Epochs} epochs per fold: the learning-rate schedule is recomputed for " +
                            "{Epochs} epochs from the next epoch on (epochs already trained keep the rates they had); run.json records it",
                before, options.Epochs, options.Epochs);

        using var stopSignal = new StopSignal();
        try
        {
            var filterBank = options.FreqRespEvery > 0 ? new FilterBankHook(options.FreqRespEvery, options.Epochs) : null;
            var outcome = new TrainingService(options, hooks: filterBank is null ? [] : [filterBank], log, stopSignal.Token).Run();
            if (outcome == TrainingOutcome.Stopped)
            {
                context.Error.WriteLine(File.Exists(new RunFolder(options.OutDir).RunFile)
                    ? $"Stopped by {stopSignal.Received}. Resume with: envnet train --resume --out \"{options.OutDir}\""
                    : $"Stopped by {stopSignal.Received} before training began; nothing to resume: run the same command again.");
                return stopSignal.ExitCode;
            }
            return ExitCodes.Success;
        }
        catch (UsageException e)
        {
            log.Error("{Message}", e.Message);
            return ExitCodes.Usage;
        }
        catch (TrainingDivergedException e)
        {
            log.Error("{Message}", e.Message);
            return ExitCodes.Diverged;
        }
        catch (DeviceOutOfMemoryException e)
        {
            log.Error("{Message}", e.Message);
            return ExitCodes.DeviceOutOfMemory;
        }
        catch (Exception e) when (e is Checkpoints.CheckpointException or Esc50Dataset.DatasetException or InvalidDataException
                                      or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            log.Error("{Message}", e.Message);
            return ExitCodes.Failure;
        }
    }
}
