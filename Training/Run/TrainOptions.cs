using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EnvNet.Esc50Dataset;
using EnvNet.Esc50Dataset.Datasets;
using EnvNet.Kernels;
using EnvNet.Network;

namespace EnvNet.Training.Run;

/// <summary>Everything a training run needs, resolved and validated. Saved as <c>run.json</c> in the run folder,
/// from which <c>--resume</c> takes it back (every field required). Values not set in code come from <see cref="DefaultModel"/>'s recipe, the one
/// source of defaults; the train command layers the options given on the chosen model's recipe.</summary>
public sealed record TrainOptions
{
    /// <summary>The model trained when none is named (with --data).</summary>
    public const string DefaultModel = "envnet";

    private static TrainingRecipe DefaultRecipe => ModelRegistry.Definition(DefaultModel).Recipe;

    /// <summary>The dataset folder, or the CSV file of a list (<see cref="Dataset"/>); for the embedded default, the synthetic twin.</summary>
    public required string DataDir { get; init; }
    public bool Embedded { get; init; }

    /// <summary>The kind of dataset <see cref="DataDir"/> is. A run.json written before there were kinds has no such
    /// field and trained on ESC-50: this default is where that older format's meaning is decided.</summary>
    public DatasetKind Dataset { get; init; } = DatasetKind.Esc50;

    /// <summary>The ESC-50 subset; only an ESC-50 run has one (the options refuse --subset for another dataset, and
    /// run.json records it for ESC-50 alone).</summary>
    public Esc50Subset Subset { get; init; } = Esc50Subset.Esc50;

    /// <summary>The dataset's folds: its own (5 for ESC-50, the default of an older run.json; 10 for UrbanSound8K),
    /// or the number made for one without (<c>--fold-count</c>), recorded with the split in the run's folds.csv.</summary>
    public int FoldCount { get; init; } = Esc50Metadata.Folds;

    public int[] Folds { get; init; } = Esc50Metadata.AllFolds;
    public string Model { get; init; } = DefaultModel;
    public int Epochs { get; init; } = DefaultRecipe.Epochs;
    /// <summary>The run's epochs before each extension by <c>train --resume --epochs N</c>, oldest first; null for a
    /// run never extended. The learning-rate schedule always follows <see cref="Epochs"/>.</summary>
    public int[]? EpochsBeforeExtension { get; init; }
    public int Batch { get; init; } = DefaultRecipe.Batch;
    public double LearningRate { get; init; } = DefaultRecipe.LearningRate;
    public double[] LearningRateSteps { get; init; } = [.. DefaultRecipe.LearningRateSteps];
    /// <summary>The first N epochs train at a tenth of <see cref="LearningRate"/> (EnvNet-v2's recipe: 10).</summary>
    public int WarmupEpochs { get; init; } = DefaultRecipe.WarmupEpochs;
    /// <summary>The update rule, from the model's recipe.</summary>
    public OptimizerKind Optimizer { get; init; } = DefaultRecipe.Optimizer;
    public double Momentum { get; init; } = DefaultRecipe.Momentum;
    public double WeightDecay { get; init; } = DefaultRecipe.WeightDecay;
    public int TestCrops { get; init; } = DefaultRecipe.TestCrops;
    /// <summary>Train on between-class mixes of two clips with soft targets (<c>--bc</c>).</summary>
    public bool BetweenClass { get; init; }
    /// <summary>Random time scale and gain on every training example (<c>--strong-augment</c>).</summary>
    public bool StrongAugment { get; init; }
    /// <summary>Record the learned filter bank every N epochs and after the last; 0: never.</summary>
    public int FreqRespEvery { get; init; } = 1;
    [JsonConverter(typeof(AcceleratorNames.RunFileConverter))]
    public AcceleratorChoice Accelerator { get; init; } = AcceleratorChoice.Auto;
    public int Seed { get; init; }
    public required string OutDir { get; init; }
    public required string CacheDir { get; init; }
    public bool SkipBad { get; init; }

    /// <summary>What checkpoints and exports call the classes trained on ("subset"): the ESC-50 subset, or the
    /// dataset's kind for another dataset (its class names are stored beside it).</summary>
    [JsonIgnore]
    public string ClassSetName => Dataset == DatasetKind.Esc50 ? Subset.Name : Dataset.Name;

    /// <summary>How the dataset is loaded for this run; <paramref name="recordedSplit"/> is the split the run recorded, if any.</summary>
    public DatasetLoadOptions LoadOptions(IReadOnlyDictionary<string, int>? recordedSplit, Action<string>? log) =>
        new(Subset, FoldCount, Seed, recordedSplit, SkipBad, log);

    /// <summary>The learning rate of each epoch.</summary>
    [JsonIgnore]
    public LearningRateSchedule Schedule => new(LearningRate, LearningRateSteps, Epochs, WarmupEpochs);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        // A null where the type allows none (e.g. "folds": null) is an error naming the field, not a crash later.
        RespectNullableAnnotations = true,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { SubsetForEsc50Only } },
    };

    private static readonly string SubsetField = FieldName(nameof(Subset));

    /// <summary>An ESC-50 subset means nothing for another dataset, so its run.json has none.</summary>
    private static void SubsetForEsc50Only(JsonTypeInfo type)
    {
        if (type.Type == typeof(TrainOptions) && type.Properties.FirstOrDefault(p => p.Name == SubsetField) is { } subset)
            subset.ShouldSerialize = (options, _) => ((TrainOptions)options).Dataset == DatasetKind.Esc50;
    }

    /// <summary>The name of a property in run.json (camel case, e.g. learningRate for <see cref="LearningRate"/>).</summary>
    public static string FieldName(string propertyName) => Json.PropertyNamingPolicy!.ConvertName(propertyName);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The fields that came with datasets other than ESC-50. A run file written before them has neither, and
    /// trained on ESC-50's 5 folds, which <see cref="Dataset"/> and <see cref="FoldCount"/> default to; a file with
    /// one of them and not the other is damaged.</summary>
    private static readonly string[] FieldsAddedWithDatasets = [FieldName(nameof(Dataset)), FieldName(nameof(FoldCount))];

    /// <summary>The options of a run file. Every field is required (but for the older format's two, above, and the
    /// subset of a dataset other than ESC-50, which has none): a field deleted by hand is an error naming it, never a
    /// silent recipe default. Values are checked by <c>TrainOptionsValidator</c>, as the command line's are.</summary>
    public static TrainOptions FromJson(string json, string path)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: expected a run file (a JSON object); the text is not valid JSON ({e.Message}).", e);
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: expected a run file (a JSON object); got a JSON {root.ValueKind.ToString().ToLowerInvariant()}.");
        var missing = Json.GetTypeInfo(typeof(TrainOptions)).Properties
            .Where(p => p.Set is not null) // read from the file; the [JsonIgnore]d Schedule is not
            .Select(p => p.Name).Where(name => !root.TryGetProperty(name, out _)).ToList();
        if (FieldsAddedWithDatasets.All(missing.Contains)) missing.RemoveAll(FieldsAddedWithDatasets.Contains);
        if (root.TryGetProperty(FieldName(nameof(Dataset)), out var dataset) && dataset.ValueKind == JsonValueKind.String
            && DatasetKind.Parse(dataset.GetString()!) is { } kind && kind != DatasetKind.Esc50)
            missing.Remove(SubsetField);
        if (missing.Count > 0)
            throw new InvalidDataException(
                $"{path}: expected {(missing.Count == 1 ? "the field" : "the fields")} {string.Join(", ", missing.Select(m => $"'{m}'"))}; " +
                $"{(missing.Count == 1 ? "it is" : "they are")} missing (a run file records every option of its run).");
        try
        {
            return root.Deserialize<TrainOptions>(Json) ?? throw new InvalidDataException($"{path}: empty run file.");
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } jsonPath ? jsonPath[2..] : "?"; // "$.learningRate" -> "learningRate"
            throw new InvalidDataException($"{path}, field '{field}': expected a value of the field's type ({e.Message}).", e);
        }
    }
}
