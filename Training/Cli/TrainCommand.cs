using System.CommandLine;
using EnvNet.Training.FilterBank;

namespace EnvNet.Training.Cli;

/// <summary><c>envnet train</c>: cross-validation on ESC-50 with the model's recipe (<see cref="Network.ModelDefinition.Recipe"/>), or the embedded default.</summary>
public static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<string?>("--data") { Description = "ESC-50 folder (meta/esc50.csv, audio/). Without it: the embedded default, envnet-tiny on a generated synthetic twin of ESC-50." };
        var subset = new Option<string?>("--subset") { Description = "esc50 (50 classes, default) or esc10 (the 10-class subset)." };
        var folds = new Option<string?>("--folds") { Description = "Validation folds to run, comma separated (default 1,2,3,4,5)." };
        var fold = new Option<int?>("--fold") { Description = "Run one fold only (1-5), e.g. as one job of an array." };
        var model = new Option<string?>("--model") { Description = ModelsCommand.OptionDescription + " Default: envnet." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs per fold (default: the model's recipe; envnet 600, envnet-v2 1000, either on esc10 600; doubled with --bc)." };
        var batch = new Option<int?>("--batch") { Description = "Clips per training batch (default 64)." };
        var learningRate = new Option<double?>("--lr") { Description = "Initial learning rate (default: envnet 0.01, envnet-v2 0.1, either on esc10 0.01)." };
        var learningRateSteps = new Option<string?>("--lr-steps") { Description = "Fractions of the epochs after which the learning rate is divided by 10 (default: envnet 0.5,0.75, envnet-v2 0.3,0.6,0.9, either on esc10 0.5,0.75; 'none' for a constant rate)." };
        var warmupEpochs = new Option<int?>("--warmup-epochs") { Description = "Train the first N epochs at a tenth of --lr (default: envnet-v2 on esc50 10, otherwise 0)." };
        var betweenClass = new Option<bool>("--bc") { Description = "Between-class learning: train on mixes of two clips of different classes with soft targets (Tokozume, Ushiku & Harada, ICLR 2018)." };
        var strongAugment = new Option<bool>("--strong-augment") { Description = "Strong augmentation: a random time scale (up to 1.25x either way) and gain (±6 dB) per training example." };
        var momentum = new Option<double?>("--momentum") { Description = "Nesterov momentum (default 0.9)." };
        var weightDecay = new Option<double?>("--weight-decay") { Description = "L2 weight decay (default 5e-4)." };
        var testCrops = new Option<int?>("--test-crops") { Description = "Evenly spaced crops averaged per validation clip (default 10)." };
        var freqRespEvery = new Option<int?>("--freqresp-every") { Description = "Record the learned filter bank's frequency response every N epochs and after the last (default 1; 0: off): freqresp.csv, freqresp_summary.csv, fold-K/freqresp/." };
        var accelerator = new Option<string?>("--accelerator") { Description = "auto (CUDA, then OpenCL, then CPU; default), cuda, opencl, cpu (host kernels) or ilgpu-cpu (ILGPU's simulated GPU)." };
        var seed = new Option<int?>("--seed") { Description = "Seed of weights, data order and dropout (default 0)." };
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/MODEL-TIMESTAMP)." };
        var cache = new Option<string?>("--cache") { Description = "Cache for decoded audio and generated data (default $ENVNET_CACHE or ~/.cache/envnet)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint, with the options in its run.json." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Skip unreadable audio files and metadata rows (listed in the log) instead of stopping." };

        var command = new Command("train", "Train EnvNet with k-fold cross-validation on ESC-50 (without --data: the embedded synthetic default).")
        {
            data, subset, folds, fold, model, epochs, batch, learningRate, learningRateSteps, warmupEpochs, momentum, weightDecay,
            testCrops, betweenClass, strongAugment, freqRespEvery, accelerator, seed, output, cache, resume, skipBad,
        };
        command.SetAction(parsed => Run(context, new TrainArguments
        {
            Data = parsed.GetValue(data),
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

    public static int Run(CliContext context, TrainArguments arguments)
    {
        var validated = TrainOptionsValidator.Validate(arguments);
        if (!validated.IsValid)
        {
            foreach (var message in validated.Errors) context.UsageError(message);
            return ExitCodes.Usage;
        }
        var options = validated.Value!;

        using var log = RunConsole.CreateLogger(options.OutDir);
        if (options.Embedded)
            log.Information(
                "No --data given: this is the embedded default. It trains {Model} on a synthetic twin of ESC-50 ({Classes} classes of " +
                "generated sounds, {Clips} clips per class and fold) for {Epochs} epochs on fold(s) {Folds}, to show the whole pipeline " +
                "working without a GPU or the real data; its accuracy says nothing about real sounds. For the real recipe: " +
                "envnet train --data PATH/TO/ESC-50 (see README.md).",
                options.Model, EmbeddedDefault.Classes, EmbeddedDefault.ClipsPerClassPerFold, options.Epochs, string.Join(",", options.Folds));
        log.Information("Run folder {RunDir}", options.OutDir);

        using var stopSignal = new StopSignal();
        try
        {
            var filterBank = options.FreqRespEvery > 0 ? new FilterBankHook(options.FreqRespEvery, options.Epochs) : null;
            var outcome = new TrainingService(options, hooks: filterBank is null ? [] : [filterBank], log, stopSignal.Token).Run();
            if (outcome == TrainingOutcome.Stopped)
            {
                context.Error.WriteLine($"Stopped by {stopSignal.Received}. Resume with: envnet train --resume --out \"{options.OutDir}\"");
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
