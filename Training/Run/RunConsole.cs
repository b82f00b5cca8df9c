using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Sinks.SystemConsole.Themes;
using Spectre.Console;

namespace EnvNet.Training.Run;

/// <summary>
/// How a run talks to the person watching: readable Serilog lines on the console, the same events as compact JSON
/// (CLEF, one object per line) in the run folder, and progress bars (decoding, each epoch, validation) only on an
/// interactive terminal (plain lines when output is redirected or CI=true).
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

    /// <summary>How long a phase runs before its first plain progress line, and how often lines follow, so that
    /// CI logs show a long phase moving without a line for every short one.</summary>
    private static readonly TimeSpan FirstPlainLine = TimeSpan.FromSeconds(1), PlainLineEvery = TimeSpan.FromSeconds(10);

    /// <summary>Runs a phase of <paramref name="total"/> steps: on an interactive terminal a bar with counts, elapsed
    /// and remaining time; otherwise "description: done/total" through <paramref name="plainLine"/> once the phase
    /// has run a second, then every 10 s.</summary>
    /// <param name="body">Does the work and calls the action it is given with the number of steps done (from any
    /// thread) and, optionally, a new description.</param>
    public static void Phase(string description, int total, Action<string>? plainLine, Action<Action<int, string?>> body, int alreadyDone = 0)
    {
        if (!IsInteractive)
        {
            var plain = new PlainProgress(description, plainLine);
            body((done, _) => plain.Report($"{done}/{total}"));
            return;
        }
        try
        {
            AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new CountColumn(), new PercentageColumn(),
                    new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask(Markup.Escape(description), maxValue: total);
                    task.Value = alreadyDone;
                    body((done, newDescription) =>
                    {
                        if (newDescription is not null) task.Description = Markup.Escape(newDescription);
                        task.Value = done;
                    });
                });
        }
        finally
        {
            RestoreTerminal();
        }
    }

    /// <summary>Runs work of unknown length: on an interactive terminal a spinner with a status that
    /// <paramref name="body"/> updates, and the lines it prints above it; otherwise the lines go to
    /// <paramref name="output"/> and the status, as in <see cref="Phase"/>, to <paramref name="plainLine"/>.</summary>
    /// <param name="body">Does the work, given an action that sets the status and one that prints a result line.</param>
    public static void Activity(string description, TextWriter output, Action<string>? plainLine, Action<Action<string>, Action<string>> body)
    {
        if (!IsInteractive)
        {
            body(new PlainProgress(description, plainLine).Report, output.WriteLine);
            return;
        }
        try
        {
            AnsiConsole.Status().Start(Markup.Escape(description), context =>
                body(status => context.Status(Markup.Escape($"{description}: {status}")), line => AnsiConsole.WriteLine(line)));
        }
        finally
        {
            RestoreTerminal();
        }
    }

    /// <summary>Shows the cursor again, which Spectre's live display hides; called on every way out, a second Ctrl-C
    /// included, so the terminal is never left without one.</summary>
    public static void RestoreTerminal()
    {
        if (IsInteractive) Console.Write("\u001b[?25h");
    }

    /// <summary>"description: state" lines, the first once the work has run <see cref="FirstPlainLine"/>, then at
    /// most one every <see cref="PlainLineEvery"/>; reports from several threads are fine.</summary>
    private sealed class PlainProgress(string description, Action<string>? plainLine)
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private readonly Lock _gate = new();
        private TimeSpan _nextLine = FirstPlainLine;

        public void Report(string state)
        {
            if (plainLine is null || _clock.Elapsed < _nextLine) return;
            lock (_gate)
            {
                if (_clock.Elapsed < _nextLine) return;
                _nextLine = _clock.Elapsed + PlainLineEvery;
                plainLine($"{description}: {state}");
            }
        }
    }

    /// <summary>"done/total" beside the bar.</summary>
    private sealed class CountColumn : ProgressColumn
    {
        public override Spectre.Console.Rendering.IRenderable Render(Spectre.Console.Rendering.RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{task.Value:0}/{task.MaxValue:0}");
    }
}
