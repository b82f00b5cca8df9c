using EnvNet.Esc50Dataset;
using EnvNet.Training.Commands;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// The smallest training run there is, made once for the test assembly and shared by the fault and kill tests:
/// envnet-tiny on a synthetic set of 2 classes with one clip per class and fold (8 training clips in 2 batches of 4
/// per epoch for fold 1, 2 validation clips with one test crop each), 2 epochs on the CPU accelerator.
/// </summary>
internal static class TinyTrainingRun
{
    public const int Classes = 2;
    public const int Epochs = 2;

    private static readonly Lazy<TempDir> Root = new(Train);

    /// <summary>The options of the run, --data, --out and --cache aside.</summary>
    public static readonly string[] Recipe =
        ["--model", "envnet-tiny", "--epochs", $"{Epochs}", "--fold", "1", "--batch", "4", "--test-crops", "1", "--freqresp-every", "0",
         "--accelerator", "cpu", "--seed", "7"];

    public static string Data => Root.Value.Sub("data");
    public static string Cache => Root.Value.Sub("cache");

    /// <summary>The finished run: run.json, metrics.csv with epochs 1 and 2, fold-1/{last,last.state,best}.safetensors.</summary>
    public static string Finished => Root.Value.Sub("finished");

    private static TempDir Train()
    {
        var root = new TempDir();
        SyntheticEsc50.Write(root.Sub("data"), Classes, clipsPerClassPerFold: 1, seed: 3);
        var (code, _, error) = Cli(["train", "--data", root.Sub("data"), "--out", root.Sub("finished"), "--cache", root.Sub("cache"), .. Recipe]);
        Assert.AreEqual(ExitCodes.Success, code, error);
        return root;
    }

    /// <summary>Called by the assembly cleanup (<see cref="TestDevice.DisposeDevice"/>).</summary>
    public static void Delete()
    {
        if (Root.IsValueCreated) Root.Value.Dispose();
    }
}
