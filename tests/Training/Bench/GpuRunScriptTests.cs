using System.Diagnostics;
using EnvNet.Network;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// <c>bench/gpu-run.sh</c>, the one call for a lent GPU, checked without one: it parses (<c>bash -n</c>), and its dry run
/// lists every step (the CUDA selfcheck, the product and PyTorch benches, a 1-epoch CUDA run of every model that
/// envnet lists) and runs nothing but <c>envnet models</c>, which here is this build's own listing.
/// </summary>
[TestClass]
public sealed class GpuRunScriptTests
{
    private static string Script => Path.Combine(RepositoryRoot(), "bench", "gpu-run.sh");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "bench", "gpu-run.sh"))) return dir.FullName;
        throw new AssertFailedException($"no bench/gpu-run.sh above {AppContext.BaseDirectory}");
    }

    private static (int Code, string Out, string Error) Bash(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception) { Assert.Inconclusive("bash is not installed"); throw; }
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.IsTrue(process.WaitForExit(TimeSpan.FromSeconds(60)), $"bash {string.Join(" ", args)}: still running after 60 s");
        return (process.ExitCode, output.Result, error.Result);
    }

    [TestMethod]
    public void TheScript_Parses()
    {
        var (code, _, error) = Bash(RepositoryRoot(), new Dictionary<string, string>(), "-n", Script);
        Assert.AreEqual(0, code, error);
    }

    [TestMethod]
    public void TheDryRun_ListsEveryStepAndAOneEpochCudaRunOfEveryModel_AndRunsNothing()
    {
        using var dir = new TempDir();
        // A stand-in envnet: `models` prints this build's listing, anything else leaves a mark.
        var listing = dir.Sub("models.txt");
        File.WriteAllText(listing, Cli("models").Out);
        var envnet = dir.Sub("envnet");
        File.WriteAllText(envnet, $"#!/usr/bin/env bash\nif [ \"$1\" = models ]; then cat '{listing}'; else touch '{dir.Sub("ran")}'; fi\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(envnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var output = dir.Sub("out");

        var (code, stdout, error) = Bash(RepositoryRoot(),
            new Dictionary<string, string> { ["ENVNET"] = envnet, ["OUT"] = output, ["PYTHON"] = "false" }, Script, "--dry-run");

        Assert.AreEqual(0, code, stdout + error);
        var lines = stdout.Split('\n');
        void Expect(string fragment) => Assert.IsTrue(lines.Any(l => l.StartsWith("would run", StringComparison.Ordinal) && l.Contains(fragment, StringComparison.Ordinal)),
            $"no step with '{fragment}' in:\n{stdout}");
        Expect($"{envnet} selfcheck --accelerator cuda");
        Expect($"{envnet} bench --model envnet --batch 64 --accelerator cuda");
        Expect($"{envnet} bench --model envnet-v2 --batch 64 --accelerator cuda");
        Expect("bench/reference/envnet_reference.py --model envnet ");
        Expect($"{envnet} synth --out {output}/synth");
        foreach (var model in ModelRegistry.Names)
            Expect($"train --data {output}/synth --model {model} --epochs 1 --fold 1");
        Assert.AreEqual(ModelRegistry.Names.Count, lines.Count(l => l.Contains(" train ", StringComparison.Ordinal)), stdout);
        Assert.IsFalse(File.Exists(dir.Sub("ran")), "a dry run runs nothing but 'envnet models'");
        Assert.IsFalse(Directory.Exists(output), "a dry run writes nothing");
    }

    [TestMethod]
    public void AnUnknownArgument_IsRefused()
    {
        var (code, _, error) = Bash(RepositoryRoot(), new Dictionary<string, string>(), Script, "--dryrun");
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "usage:");
    }
}
