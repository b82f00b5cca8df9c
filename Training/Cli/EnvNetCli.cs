using System.CommandLine;
using System.CommandLine.Invocation;
using EnvNet.Esc50Dataset;
using EnvNet.Training.Bench;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.FilterBank;

namespace EnvNet.Training.Cli;

/// <summary>Exit codes of every envnet command.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The work failed: bad data, a damaged checkpoint, no such device.</summary>
    public const int Failure = 1;
    /// <summary>The command line is wrong: unknown option, bad value, missing file. Nothing was done.</summary>
    public const int Usage = 2;
}

/// <summary>Where a command writes: standard output and error, replaceable for tests.</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error)
{
    public int UsageError(string message)
    {
        Error.WriteLine($"error: {message}");
        return ExitCodes.Usage;
    }
}

/// <summary>The <c>envnet</c> command line: one subcommand per job, System.CommandLine for parsing.</summary>
public static class EnvNetCli
{
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var context = new CliContext(output ?? Console.Out, error ?? Console.Error);
        var root = new RootCommand("envnet: train, evaluate and inspect EnvNet (end-to-end environmental sound classification) on ESC-50 with ILGPU.")
        {
            TrainCommand.Create(context),
            EvaluateCommand.Create(context),
            PredictCommand.Create(context),
            ReportCommand.Create(context),
            InfoCommands.Devices(context),
            InfoCommands.Shapes(context),
            SynthCommand.Create(context),
            FreqRespCommand.Create(context),
            BenchCommand.Create(context.Out, context.Error),
            BenchCommand.CreateSelfCheck(context.Out, context.Error),
        };

        var parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var parseError in parsed.Errors) context.Error.WriteLine($"error: {parseError.Message}");
            context.Error.WriteLine("Run 'envnet --help' or 'envnet COMMAND --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // train handles SIGINT/SIGTERM itself (StopSignal)
        };
        try
        {
            return parsed.Invoke(invocation);
        }
        catch (UsageException e)
        {
            return context.UsageError(e.Message);
        }
        catch (Exception e) when (e is CheckpointException or DatasetException or InvalidDataException or IOException
                                      or UnauthorizedAccessException or InvalidOperationException)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
