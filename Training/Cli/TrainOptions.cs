using System.Text.Json;
using System.Text.Json.Serialization;
using EnvNet.Esc50Dataset;
using EnvNet.Kernels;
using EnvNet.Network;

namespace EnvNet.Training.Cli;

/// <summary>Everything a training run needs, resolved and validated. Saved as <c>run.json</c> in the run folder,
/// from which <c>--resume</c> takes it back.</summary>
public sealed record TrainOptions
{
    /// <summary>The ESC-50 folder (holding meta/esc50.csv and audio/); for the embedded default, the synthetic twin.</summary>
    public required string DataDir { get; init; }
    public bool Embedded { get; init; }
    public string Subset { get; init; } = "esc50";
    public int[] Folds { get; init; } = [1, 2, 3, 4, 5];
    public string Model { get; init; } = "envnet";
    public int Epochs { get; init; } = 600;
    /// <summary>The run's epochs before each extension by <c>train --resume --epochs N</c>, oldest first; null for a
    /// run never extended. The learning-rate schedule always follows <see cref="Epochs"/>.</summary>
    public int[]? EpochsBeforeExtension { get; init; }
    public int Batch { get; init; } = EnvNetModels.Recipe.Batch;
    public double LearningRate { get; init; } = 0.01;
    public double[] LearningRateSteps { get; init; } = [0.5, 0.75];
    /// <summary>The first N epochs train at a tenth of <see cref="LearningRate"/> (EnvNet-v2's recipe: 10).</summary>
    public int WarmupEpochs { get; init; }
    /// <summary>The update rule, from the model's recipe.</summary>
    public OptimizerKind Optimizer { get; init; } = EnvNetModels.Recipe.Optimizer;
    public double Momentum { get; init; } = EnvNetModels.Recipe.Momentum;
    public double WeightDecay { get; init; } = EnvNetModels.Recipe.WeightDecay;
    public int TestCrops { get; init; } = EnvNetModels.Recipe.TestCrops;
    /// <summary>Train on between-class mixes of two clips with soft targets (<c>--bc</c>).</summary>
    public bool BetweenClass { get; init; }
    /// <summary>Random time scale and gain on every training example (<c>--strong-augment</c>).</summary>
    public bool StrongAugment { get; init; }
    /// <summary>Record the learned filter bank every N epochs and after the last; 0: never.</summary>
    public int FreqRespEvery { get; init; } = 1;
    public AcceleratorChoice Accelerator { get; init; } = AcceleratorChoice.Auto;
    public int Seed { get; init; }
    public required string OutDir { get; init; }
    public required string CacheDir { get; init; }
    public bool SkipBad { get; init; }

    public const string RunFileName = "run.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainOptions FromJson(string json, string path) =>
        JsonSerializer.Deserialize<TrainOptions>(json, Json)
        ?? throw new InvalidDataException($"{path}: empty run file.");
}

/// <summary>The training options as given on the command line: null where the option was not given.</summary>
public sealed record TrainArguments
{
    public string? Data { get; init; }
    public string? Subset { get; init; }
    public string? Folds { get; init; }
    public int? Fold { get; init; }
    public string? Model { get; init; }
    public int? Epochs { get; init; }
    public int? Batch { get; init; }
    public double? LearningRate { get; init; }
    public string? LearningRateSteps { get; init; }
    public int? WarmupEpochs { get; init; }
    public double? Momentum { get; init; }
    public double? WeightDecay { get; init; }
    public int? TestCrops { get; init; }
    public int? FreqRespEvery { get; init; }
    public string? Accelerator { get; init; }
    public int? Seed { get; init; }
    public string? Out { get; init; }
    public string? Cache { get; init; }
    public bool Resume { get; init; }
    public bool SkipBad { get; init; }
    public bool BetweenClass { get; init; }
    public bool StrongAugment { get; init; }
}

/// <summary>
/// The embedded default: what <c>envnet train</c> does without <c>--data</c>. It trains the small model on the
/// synthetic ESC-50 twin so that a fresh clone shows the whole product working in a few minutes on two CPU cores.
/// Options given explicitly still override these values; the model's recipe schedule does not apply to it.
/// </summary>
public static class EmbeddedDefault
{
    public const string Model = "envnet-tiny";
    public const int Classes = SyntheticEsc50.DefaultClasses;
    public const int ClipsPerClassPerFold = SyntheticEsc50.DefaultClipsPerClassPerFold;
    public const int DataSeed = 2017;
    public const int Epochs = 12;
    public const int Batch = 16;
    public const double LearningRate = 0.03;
    public static readonly double[] LearningRateSteps = [0.5, 0.75];
    public static readonly int[] Folds = [1];

    public static string DataDir(string cacheDir) =>
        Path.Combine(cacheDir, $"{CacheFolder.SyntheticPrefix}{Classes}c-{ClipsPerClassPerFold}x-seed{DataSeed}");
}

/// <summary>Where envnet keeps decoded audio and generated data: $ENVNET_CACHE, else the user's cache folder.
/// Decoded clips go to <c>clips/DATASET-HASH/RATE-hz/</c>, one folder per dataset folder (its name and a hash of
/// its full path, which <c>clips/DATASET-HASH/source.txt</c> records) and per sample rate; generated data sets to
/// <c>synthetic-esc50-*</c> beside it.</summary>
public static class CacheFolder
{
    public const string ClipsFolder = "clips";
    public const string SourceFile = "source.txt";
    public const string SyntheticPrefix = "synthetic-esc50-";

    /// <summary>The folder of the decoded clips of <paramref name="dataDir"/> at <paramref name="sampleRate"/>,
    /// created with the dataset's source.txt.</summary>
    public static string PrepareClips(string cacheDir, string dataDir, int sampleRate)
    {
        var source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(source)))[..8];
        var datasetDir = Path.Combine(cacheDir, ClipsFolder, $"{Path.GetFileName(source)}-{hash}");
        var clipsDir = Path.Combine(datasetDir, $"{sampleRate}-hz");
        Directory.CreateDirectory(clipsDir);
        File.WriteAllText(Path.Combine(datasetDir, SourceFile), source + Environment.NewLine);
        return clipsDir;
    }

    public static string Default()
    {
        var configured = Environment.GetEnvironmentVariable("ENVNET_CACHE");
        if (!string.IsNullOrEmpty(configured)) return Path.GetFullPath(configured);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "envnet");
    }
}
