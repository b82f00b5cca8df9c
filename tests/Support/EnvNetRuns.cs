using System.Diagnostics;
using System.Runtime.InteropServices;
using EnvNet.Training.Run;
using EnvNet.Training.Commands;
using EnvNet.Training.Results;

namespace EnvNet.Tests;

/// <summary>Running envnet from tests: in this process through <see cref="EnvNetCli"/>, or as a child process that
/// can be signalled and killed, and comparing what runs wrote.</summary>
internal static class EnvNetRuns
{
    public const int Sigterm = 15;

    /// <summary>envnet in this process, with its standard output and error captured.</summary>
    public static (int Code, string Out, string Error) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        return (EnvNetCli.Run(args, output, error), output.ToString(), error.ToString());
    }

    /// <summary>envnet as a child process: the envnet.dll built beside the tests, run by the same dotnet host, with
    /// CI=true (plain log lines) and the given extra environment. Each line of standard output goes to
    /// <paramref name="onOutput"/>; standard error is left for the caller to read.</summary>
    public static Process Start(string[] args, IReadOnlyDictionary<string, string>? environment = null, Action<string>? onOutput = null)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "envnet.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["CI"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null) onOutput?.Invoke(line.Data);
        };
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>The last error a run logged to its log.clef (what <c>envnet train</c> prints as its one error line).</summary>
    public static string LastError(string run) => File.ReadLines(Path.Combine(run, RunConsole.LogFileName))
        .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
        .Last(e => e.TryGetProperty("@l", out var level) && level.GetString() == "Error")
        .GetProperty("Message").GetString()!;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Signal(int pid, int signal);

    /// <summary>metrics.csv without the timing columns, which differ between any two runs.</summary>
    public static string[] Untimed(string runDir) => MetricsFile.Read(Path.Combine(runDir, RunFolder.MetricsFileName))
        .Select(r => (r with { EpochSeconds = 0, SamplesPerSecond = 0 }).ToString()).ToArray();
}
