using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Sinks.SystemConsole.Themes;
using Spectre.Console;

namespace EnvNet.Training;

/// <summary>
/// How a run talks to the person watching: readable Serilog lines on the console, the same events as compact JSON
/// (CLEF, one object per line) in the run folder, and a per-epoch progress bar only on an interactive terminal
/// (plain lines when output is redirected or CI=true).
/// </summary>
public static class RunConsole
{
    public const string LogFileName = "log.clef";

    public static bool IsInteractive =>
        !Console.IsOutputRedirected
        && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
        && AnsiConsole.Profile.Capabilities.Interactive;

    public static Serilog.Core.Logger CreateLogger(string? runDir)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}",
                theme: IsInteractive ? AnsiConsoleTheme.Sixteen : ConsoleTheme.None,
                standardErrorFromLevel: LogEventLevel.Error,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        if (runDir is not null)
            configuration = configuration.WriteTo.File(new CompactJsonFormatter(), Path.Combine(runDir, LogFileName), flushToDiskInterval: TimeSpan.FromSeconds(1));
        return configuration.CreateLogger();
    }

    /// <summary>Runs one epoch's batch loop, showing a progress bar where the console is interactive.</summary>
    /// <param name="body">Runs the batches and calls the action it is given after each, with the running loss.</param>
    public static void WithProgress(string description, int totalBatches, int completedBatches, Action<Action<double>> body)
    {
        if (!IsInteractive)
        {
            body(_ => { });
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(description, maxValue: totalBatches);
                task.Value = completedBatches;
                body(loss =>
                {
                    task.Description = $"{description} loss {loss:F3}";
                    task.Increment(1);
                });
            });
    }
}
