using System.Globalization;
using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary>The outcome of validating command-line options: the options, or one message per problem.</summary>
public sealed record Validated<T>(T? Value, IReadOnlyList<string> Errors) where T : class
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>A training option as the command line names it and as run.json names it, so that one check serves both
/// and its message names where the value came from.</summary>
public sealed record TrainField(string Option, string Property)
{
    /// <summary>The field's name in run.json.</summary>
    public string FieldName => TrainOptions.FieldName(Property);

    public static readonly TrainField Data = new("--data", nameof(TrainOptions.DataDir));
    public static readonly TrainField Dataset = new("--dataset", nameof(TrainOptions.Dataset));
    public static readonly TrainField FoldCount = new("--fold-count", nameof(TrainOptions.FoldCount));
    public static readonly TrainField Folds = new("--folds", nameof(TrainOptions.Folds));
    public static readonly TrainField Model = new("--model", nameof(TrainOptions.Model));
    public static readonly TrainField Epochs = new("--epochs", nameof(TrainOptions.Epochs));
    public static readonly TrainField EpochsBeforeExtension = new("--epochs", nameof(TrainOptions.EpochsBeforeExtension));
    public static readonly TrainField Batch = new("--batch", nameof(TrainOptions.Batch));
    public static readonly TrainField LearningRate = new("--lr", nameof(TrainOptions.LearningRate));
    public static readonly TrainField LearningRateSteps = new("--lr-steps", nameof(TrainOptions.LearningRateSteps));
    public static readonly TrainField WarmupEpochs = new("--warmup-epochs", nameof(TrainOptions.WarmupEpochs));
    public static readonly TrainField Momentum = new("--momentum", nameof(TrainOptions.Momentum));
    public static readonly TrainField WeightDecay = new("--weight-decay", nameof(TrainOptions.WeightDecay));
    public static readonly TrainField TestCrops = new("--test-crops", nameof(TrainOptions.TestCrops));
    public static readonly TrainField FreqRespEvery = new("--freqresp-every", nameof(TrainOptions.FreqRespEvery));
    public static readonly TrainField Accelerator = new("--accelerator", nameof(TrainOptions.Accelerator));
    public static readonly TrainField Out = new("--out", nameof(TrainOptions.OutDir));
    public static readonly TrainField Cache = new("--cache", nameof(TrainOptions.CacheDir));
}

/// <summary>
/// Turns <see cref="TrainArguments"/> into <see cref="TrainOptions"/> before any work starts, and checks the options
/// of a run file read back by --resume with the same checks. Every problem is one line that names the option (or the
/// run file and its field) and says what was expected; the CLI prints them and exits with code 2.
/// </summary>
public static class TrainOptionsValidator
{

    public static Validated<TrainOptions> Validate(TrainArguments args, DateTime? now = null)
    {
        var errors = new List<string>();
        var options = args.Resume ? FromRunFolder(args, errors) : FromArguments(args, now ?? DateTime.Now, errors);
        if (options is not null && errors.Count == 0)
            CheckResolved(options, args.Resume ? RunFileNames(args) : field => field.Option, args.Resume,
                warmupFromRecipe: !args.Resume && args.WarmupEpochs is null, errors);
        return new Validated<TrainOptions>(errors.Count == 0 ? options : null, errors);
    }

    /// <summary>With --resume a value comes from run.json, and its message names the file and field, except those
    /// the command line gives: --out, and --accelerator and --epochs where given.</summary>
    private static Func<TrainField, string> RunFileNames(TrainArguments a)
    {
        var runFile = Path.Combine(Path.GetFullPath(a.Out!), RunFolder.RunFileName);
        return field => field == TrainField.Out || (field == TrainField.Accelerator && a.Accelerator is not null)
                        || (field == TrainField.Epochs && a.Epochs is not null)
            ? field.Option
            : $"{runFile}, field '{field.FieldName}'";
    }

    /// <summary>The options as given, each missing one from the embedded default (without --data) or from the
    /// model's recipe (<see cref="ModelDefinition.RecipeFor"/>) for the subset and --bc.</summary>
    private static TrainOptions? FromArguments(TrainArguments a, DateTime now, List<string> errors)
    {
        var embedded = a.Data is null;
        var cache = Path.GetFullPath(a.Cache ?? CacheFolder.Default());
        var model = a.Model ?? (embedded ? EmbeddedDefault.Model : TrainOptions.DefaultModel);
        var subset = ParseSubset(a.Subset, errors) ?? Esc50Subset.Esc50;
        foreach (var (option, given) in new[] { ("--dataset", a.Dataset is not null), ("--fold-count", a.FoldCount is not null) })
            if (embedded && given) errors.Add($"{option}: only with --data (the embedded default is its ESC-50 twin).");
        var dataset = embedded ? DatasetKind.Esc50 : ParseDataset(a, errors);
        if (dataset is null) return null;
        if (a.Subset is not null && dataset != DatasetKind.Esc50)
            errors.Add($"--subset: only for ESC-50; --data is {dataset.Name} ({dataset.Layout}).");
        var foldCount = ParseFoldCount(a.FoldCount, dataset, errors);
        var folds = ParseFolds(a, foldCount, errors) ?? (embedded ? EmbeddedDefault.Folds : [.. Enumerable.Range(1, foldCount)]);
        if (!ModelRegistry.Contains(model))
        {
            errors.Add(ModelRegistry.UnknownModelMessage("--model", model));
            return null;
        }
        var modelRecipe = ModelRegistry.Definition(model).RecipeFor(subset == Esc50Subset.Esc10, a.BetweenClass);
        var recipe = !embedded ? modelRecipe
            // The embedded schedule is tuned for SGD; an Adam or Adadelta model keeps its recipe's rate.
            : modelRecipe.Optimizer is OptimizerKind.Adam or OptimizerKind.Adadelta ? modelRecipe with { Epochs = EmbeddedDefault.Epochs, Batch = EmbeddedDefault.Batch }
            : modelRecipe with
            {
                Epochs = EmbeddedDefault.Epochs, LearningRate = EmbeddedDefault.LearningRate,
                LearningRateSteps = EmbeddedDefault.LearningRateSteps, WarmupEpochs = 0, Batch = EmbeddedDefault.Batch,
            };
        double[]? steps = a.LearningRateSteps is null ? recipe.LearningRateSteps.ToArray() : ParseSteps(a.LearningRateSteps, errors);
        var accelerator = ParseAccelerator(a.Accelerator, errors);
        return new TrainOptions
        {
            DataDir = a.Data is null ? EmbeddedDefault.DataDir(cache) : Path.GetFullPath(a.Data),
            Embedded = embedded,
            Dataset = dataset,
            Subset = subset,
            FoldCount = foldCount,
            Folds = folds,
            Model = model,
            Epochs = a.Epochs ?? recipe.Epochs,
            Batch = a.Batch ?? recipe.Batch,
            LearningRate = a.LearningRate ?? recipe.LearningRate,
            LearningRateSteps = steps ?? [],
            WarmupEpochs = a.WarmupEpochs ?? recipe.WarmupEpochs,
            Optimizer = recipe.Optimizer,
            Momentum = a.Momentum ?? recipe.Momentum,
            WeightDecay = a.WeightDecay ?? recipe.WeightDecay,
            TestCrops = a.TestCrops ?? recipe.TestCrops,
            FreqRespEvery = a.FreqRespEvery ?? 1,
            Accelerator = accelerator ?? AcceleratorChoice.Auto,
            Seed = a.Seed ?? 0,
            OutDir = Path.GetFullPath(a.Out ?? Path.Combine("runs", $"{model}-{now:yyyyMMdd-HHmmss}")),
            CacheDir = cache,
            SkipBad = a.SkipBad,
            BetweenClass = a.BetweenClass,
            StrongAugment = a.StrongAugment,
        };
    }

    /// <summary>--resume: the options of the run folder's run.json; only the accelerator may be changed, and --epochs
    /// may extend the run to more epochs (its schedule recomputed for the new length).</summary>
    private static TrainOptions? FromRunFolder(TrainArguments a, List<string> errors)
    {
        if (a.Out is null)
        {
            errors.Add("--resume: expected --out DIR naming the run folder to continue.");
            return null;
        }
        var given = new (string Name, bool Given)[]
        {
            ("--data", a.Data is not null), ("--dataset", a.Dataset is not null), ("--fold-count", a.FoldCount is not null),
            ("--subset", a.Subset is not null), ("--folds", a.Folds is not null),
            ("--fold", a.Fold is not null), ("--model", a.Model is not null),
            ("--batch", a.Batch is not null), ("--lr", a.LearningRate is not null), ("--lr-steps", a.LearningRateSteps is not null),
            ("--warmup-epochs", a.WarmupEpochs is not null), ("--momentum", a.Momentum is not null), ("--weight-decay", a.WeightDecay is not null),
            ("--test-crops", a.TestCrops is not null), ("--seed", a.Seed is not null), ("--cache", a.Cache is not null),
            ("--freqresp-every", a.FreqRespEvery is not null),
            ("--skip-bad", a.SkipBad), ("--bc", a.BetweenClass), ("--strong-augment", a.StrongAugment),
        };
        foreach (var (name, _) in given.Where(g => g.Given))
            errors.Add($"{name}: not allowed with --resume; the run's options come from {Path.Combine(a.Out, RunFolder.RunFileName)} (only --accelerator may change, and --epochs grow).");

        var runFile = Path.Combine(Path.GetFullPath(a.Out), RunFolder.RunFileName);
        if (!File.Exists(runFile))
        {
            errors.Add($"--resume: expected a run folder holding {RunFolder.RunFileName}; '{runFile}' does not exist.");
            return null;
        }
        TrainOptions options;
        try
        {
            options = TrainOptions.FromJson(File.ReadAllText(runFile), runFile);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            errors.Add(e is InvalidDataException ? e.Message : $"--resume: cannot read '{runFile}' ({e.Message}).");
            return null;
        }
        var accelerator = ParseAccelerator(a.Accelerator, errors);
        if (a.Epochs is { } epochs && epochs <= options.Epochs)
            errors.Add($"--epochs: with --resume, expected more than the run's {Wording.Count(options.Epochs, "epoch")} to extend it; got {epochs}.");
        return options with
        {
            OutDir = Path.GetFullPath(a.Out),
            Accelerator = accelerator ?? options.Accelerator,
            Epochs = a.Epochs ?? options.Epochs,
            EpochsBeforeExtension = a.Epochs is null ? options.EpochsBeforeExtension : [.. options.EpochsBeforeExtension ?? [], options.Epochs],
        };
    }

    private static void CheckResolved(TrainOptions o, Func<TrainField, string> name, bool resume, bool warmupFromRecipe, List<string> errors)
    {
        if (!o.Embedded) errors.AddRange(OptionChecks.Failures(OptionChecks.Dataset(name(TrainField.Data), o.DataDir, o.Dataset)));
        if (!ModelRegistry.Contains(o.Model)) errors.Add(ModelRegistry.UnknownModelMessage(name(TrainField.Model), o.Model));
        if (o.Dataset.OwnFoldCount is { } own && o.FoldCount != own)
            errors.Add($"{name(TrainField.FoldCount)}: expected {own}, the folds of {o.Dataset.Name}; got {o.FoldCount}.");
        else if (OptionChecks.InRange(name(TrainField.FoldCount), o.FoldCount, FoldSplit.MinFoldCount, FoldSplit.MaxFoldCount, "a number of folds") is { } outOfRange)
            errors.Add(outOfRange);
        if (o.Folds.Length == 0 || o.Folds.Any(f => f < 1 || f > o.FoldCount) || o.Folds.Distinct().Count() != o.Folds.Length)
            errors.Add($"{name(TrainField.Folds)}: expected one or more fold numbers from 1 to {o.FoldCount}, each once; got [{string.Join(",", o.Folds)}].");
        errors.AddRange(OptionChecks.Failures(
            OptionChecks.Positive(name(TrainField.Epochs), o.Epochs, "number of epochs"),
            OptionChecks.Positive(name(TrainField.Batch), o.Batch, "batch size"),
            OptionChecks.Positive(name(TrainField.TestCrops), o.TestCrops, "number of test crops")));
        if (o.EpochsBeforeExtension is { } before
            && (before.Length == 0 || before.Any(e => e <= 0) || before.Zip(before.Skip(1)).Any(p => p.First >= p.Second) || before[^1] >= o.Epochs))
            errors.Add($"{name(TrainField.EpochsBeforeExtension)}: expected null or increasing positive epoch counts below the run's {o.Epochs} epochs; got [{string.Join(",", before)}].");
        if (o.FreqRespEvery < 0)
            errors.Add($"{name(TrainField.FreqRespEvery)}: expected 0 (off) or a positive number of epochs; got {o.FreqRespEvery}.");
        if (!(o.LearningRate > 0) || double.IsInfinity(o.LearningRate))
            errors.Add($"{name(TrainField.LearningRate)}: expected a learning rate > 0; got {Format(o.LearningRate)}.");
        if (!AreSteps(o.LearningRateSteps))
            errors.Add($"{name(TrainField.LearningRateSteps)}: expected increasing fractions of the epochs strictly between 0 and 1; got [{string.Join(",", o.LearningRateSteps.Select(Format))}].");
        if (o.WarmupEpochs < 0 || (o.Epochs > 0 && o.WarmupEpochs >= o.Epochs))
            errors.Add($"{name(TrainField.WarmupEpochs)}: expected 0 (none) or a number of epochs below {name(TrainField.Epochs)} ({o.Epochs}); got {o.WarmupEpochs}" +
                       (warmupFromRecipe ? $", the {o.Model} recipe's warm-up: give --warmup-epochs 0 for a run this short." : "."));
        if (!(o.Momentum >= 0 && o.Momentum < 1))
            errors.Add($"{name(TrainField.Momentum)}: expected a value in [0, 1); got {Format(o.Momentum)}.");
        if (!(o.WeightDecay >= 0) || double.IsInfinity(o.WeightDecay))
            errors.Add($"{name(TrainField.WeightDecay)}: expected a value >= 0; got {Format(o.WeightDecay)}.");
        CheckAcceleratorPresent(o.Accelerator, name(TrainField.Accelerator), errors);
        CheckOutputFolder(o.OutDir, resume, errors);
        errors.AddRange(OptionChecks.Failures(OptionChecks.WritableFolder(name(TrainField.Cache), o.CacheDir)));
        if (errors.Count == 0) CheckCheckpointSpace(o, errors);
    }

    /// <summary>Learning-rate steps: increasing fractions strictly between 0 and 1 (none for a constant rate).</summary>
    private static bool AreSteps(IReadOnlyList<double> steps) =>
        steps.All(step => step > 0 && step < 1) && steps.Zip(steps.Skip(1)).All(p => p.First < p.Second);

    /// <summary>The run folder's file system must hold the checkpoints of every fold still to write (those of a
    /// resumed run already on disk are replaced in place), counted for the largest class count of the subset.
    /// Another dataset's class count is known only once it is loaded; a checkpoint's size hardly depends on it (the
    /// output layer's share), so ESC-50's 50 classes stand in.</summary>
    private static void CheckCheckpointSpace(TrainOptions o, List<string> errors)
    {
        var config = ModelRegistry.Config(o.Model, o.Dataset == DatasetKind.Esc50 ? o.Subset.ClassCount : Esc50Subset.Esc50.ClassCount);
        var existing = Directory.Exists(o.OutDir)
            ? Directory.EnumerateFiles(o.OutDir, "*.safetensors", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)
            : 0;
        var needed = Math.Max(0, TrainingCheckpoint.EstimateRunBytes(config, o.Folds.Length) - existing);
        errors.AddRange(OptionChecks.Failures(OptionChecks.FreeSpace("--out", o.OutDir, needed,
            $"the checkpoints of {Wording.Count(o.Folds.Length, "fold")} of {o.Model}")));
    }

    /// <summary>An explicit CUDA or OpenCL choice must name a device ILGPU can see; auto and cpu always work.</summary>
    private static void CheckAcceleratorPresent(AcceleratorChoice choice, string name, List<string> errors)
    {
        var type = choice switch
        {
            AcceleratorChoice.Cuda => ILGPU.Runtime.AcceleratorType.Cuda,
            AcceleratorChoice.OpenCL => ILGPU.Runtime.AcceleratorType.OpenCL,
            _ => (ILGPU.Runtime.AcceleratorType?)null,
        };
        if (type is { } wanted && ComputeDevice.ListDevices().All(d => d.Type != wanted))
            errors.Add($"{name}: expected a {choice.DisplayName()} device, but ILGPU finds none ('envnet devices' lists what it finds; 'auto' falls back to the CPU).");
    }

    private static void CheckOutputFolder(string outDir, bool resume, List<string> errors)
    {
        if (!resume && File.Exists(Path.Combine(outDir, RunFolder.RunFileName)))
        {
            errors.Add($"--out: '{outDir}' already holds a run; pass --resume to continue it, or choose another folder.");
            return;
        }
        errors.AddRange(OptionChecks.Failures(OptionChecks.WritableFolder("--out", outDir)));
    }

    /// <summary>--dataset when given, else the kind --data is recognised as (a path that is none is reported by
    /// <see cref="OptionChecks.Dataset"/>, with what was expected).</summary>
    private static DatasetKind? ParseDataset(TrainArguments a, List<string> errors)
    {
        if (a.Dataset is { } name)
        {
            if (DatasetKind.Parse(name) is { } forced) return forced;
            errors.Add($"--dataset: expected one of {string.Join(", ", DatasetKind.All)}; got '{name}'.");
            return null;
        }
        if (DatasetKind.Recognise(Path.GetFullPath(a.Data!), out _) is { } kind) return kind;
        errors.Add(OptionChecks.Dataset("--data", Path.GetFullPath(a.Data!))!);
        return null;
    }

    /// <summary>The dataset's own fold count, or --fold-count (default <see cref="FoldSplit.DefaultFoldCount"/>) for one without.</summary>
    private static int ParseFoldCount(int? given, DatasetKind dataset, List<string> errors)
    {
        if (given is not { } count) return dataset.FoldCount(FoldSplit.DefaultFoldCount);
        if (dataset.OwnFoldCount is { } own)
            errors.Add($"--fold-count: {dataset.Name} has its own {own} folds, used as they are; the option is for folders and csv.");
        else if (OptionChecks.InRange("--fold-count", count, FoldSplit.MinFoldCount, FoldSplit.MaxFoldCount, "a number of folds") is { } outOfRange)
            errors.Add(outOfRange);
        return dataset.FoldCount(count);
    }

    private static int[]? ParseFolds(TrainArguments a, int foldCount, List<string> errors)
    {
        if (a.Fold is not null && a.Folds is not null)
        {
            errors.Add("--fold/--folds: give one or the other (--fold K runs one fold, --folds 2,4 a list).");
            return null;
        }
        if (a.Fold is { } single)
        {
            var outOfRange = OptionChecks.InRange("--fold", single, 1, foldCount, "a fold number");
            if (outOfRange is null) return [single];
            errors.Add(outOfRange);
            return null;
        }
        if (a.Folds is null) return null;

        var folds = new List<int>();
        foreach (var part in a.Folds.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var fold) || fold < 1 || fold > foldCount)
            {
                errors.Add($"--folds: expected fold numbers from 1 to {foldCount} separated by commas (e.g. 2,4); got '{a.Folds}'.");
                return null;
            }
            if (folds.Contains(fold))
            {
                errors.Add($"--folds: expected each fold once; {fold} is listed twice in '{a.Folds}'.");
                return null;
            }
            folds.Add(fold);
        }
        return folds.ToArray();
    }

    private static Esc50Subset? ParseSubset(string? text, List<string> errors)
    {
        if (text is null) return null;
        if (Esc50Subset.Parse(text) is { } subset) return subset;
        errors.Add($"--subset: expected one of {string.Join(", ", Esc50Subset.All)}; got '{text}'.");
        return null;
    }

    private static double[]? ParseSteps(string text, List<string> errors)
    {
        if (text.Trim() is "none" or "") return [];
        var steps = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var step) || !AreSteps([.. steps, step]))
            {
                errors.Add($"--lr-steps: expected increasing fractions of the epochs strictly between 0 and 1 (e.g. 0.5,0.75), or 'none'; got '{text}'.");
                return null;
            }
            steps.Add(step);
        }
        return steps.ToArray();
    }

    public static AcceleratorChoice? ParseAccelerator(string? text, List<string> errors)
    {
        if (text is null) return null;
        var choice = AcceleratorNames.Parse(text);
        if (choice is null) errors.Add($"--accelerator: expected one of {string.Join(", ", AcceleratorNames.OptionNames)}; got '{text}'.");
        return choice;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
