using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using EnvNet.Esc50Dataset;
using EnvNet.Kernels.Host;
using EnvNet.Training.Bench;
using EnvNet.Training.Checkpoints;
using EnvNet.Training.FilterBank;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary>Exit codes of every envnet command.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The work failed: bad data, a damaged checkpoint, no such device.</summary>
    public const int Failure = 1;
    /// <summary>The command line is wrong: unknown option, bad value, missing file. Nothing was done.</summary>
    public const int Usage = 2;
    /// <summary>train: the loss became NaN or infinite; the fold's last good checkpoint is kept.</summary>
    public const int Diverged = 3;
    /// <summary>train: the accelerator ran out of memory; a smaller --batch may fit.</summary>
    public const int DeviceOutOfMemory = 4;
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
    /// <summary>Every command and its options, writing to <paramref name="context"/>.</summary>
    public static RootCommand CreateRoot(CliContext context)
    {
        var root = new RootCommand("envnet: train, evaluate and inspect EnvNet (end-to-end environmental sound classification) on ESC-50 with ILGPU.")
        {
            TrainCommand.Create(context),
            EvaluateCommand.Create(context),
            PredictCommand.Create(context),
            ExportCommand.Create(context),
            ReportCommand.Create(context),
            InfoCommands.Info(context),
            InfoCommands.Devices(context),
            InfoCommands.Shapes(context),
            ModelsCommand.Create(context),
            CacheCommand.Create(context),
            SynthCommand.Create(context),
            FreqRespCommand.Create(context),
            BenchCommand.Create(context.Out, context.Error),
            BenchCommand.CreateSelfCheck(context.Out, context.Error),
        };
        root.Subcommands.Add(HelpCommand(root, context));
        return root;
    }

    /// <summary><c>envnet help [COMMAND]</c>: the same text as <c>envnet [COMMAND] --help</c>.</summary>
    private static Command HelpCommand(RootCommand root, CliContext context)
    {
        var name = new Argument<string?>("COMMAND") { Description = "The command to explain; without it, the list of commands.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("help", "Show the help of envnet, or of one command (the same as --help).") { name };
        command.SetAction(parsed =>
        {
            var target = parsed.GetValue(name);
            var commands = root.Subcommands.Where(c => c != command).ToList();
            if (target is not null && !commands.Any(c => c.Name == target || c.Aliases.Contains(target)))
                return context.UsageError($"COMMAND: expected one of {string.Join(", ", commands.Select(c => c.Name))}; got '{target}'.");
            string[] helpArgs = target is null ? ["--help"] : [target, "--help"];
            return root.Parse(helpArgs).Invoke(new InvocationConfiguration { Output = context.Out, Error = context.Error });
        });
        return command;
    }

    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var context = new CliContext(output ?? Console.Out, error ?? Console.Error);
        var parsed = CreateRoot(context).Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            var command = parsed.CommandResult.Command;
            var help = command is RootCommand ? "envnet --help" : $"envnet {command.Name} --help";
            var errors = parsed.Errors.Count > 1
                ? parsed.Errors.Where(e => e.Message != MissingCommandMessage).ToList()
                : parsed.Errors.ToList();
            foreach (var parseError in errors) context.UsageError($"{Describe(parseError, args).TrimEnd('.')} (see '{help}').");
            return ExitCodes.Usage;
        }

        // Checked before any command runs: the CPU backend reads it when a device is built, mid-command.
        if (VectorUnit.OverrideError() is { } widthError) return context.UsageError(widthError);

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
        finally
        {
            RunConsole.RestoreTerminal();
        }
    }

    /// <summary>System.CommandLine's error for "envnet" alone, also given beside an unknown command name, where
    /// it adds nothing.</summary>
    private const string MissingCommandMessage = "Required command was not provided.";

    /// <summary>One parse error as one line in the style of the commands' own checks: the option, what was
    /// expected, what was given. System.CommandLine's wording names CLR types (System.Nullable`1[System.Int32]),
    /// spreads enum suggestions over several lines and says nothing about a value given to a flag.</summary>
    private static string Describe(ParseError error, string[] args)
    {
        if (error.SymbolResult is OptionResult option)
        {
            var name = option.Option.Name;
            return option.Tokens.Count == 0
                ? $"{name}: expected a value after it."
                : $"{name}: expected {ExpectedValue(option.Option.ValueType)}; got '{string.Join(" ", option.Tokens.Select(t => t.Value))}'.";
        }
        var flag = args.FirstOrDefault(a => a.StartsWith("--", StringComparison.Ordinal) && a.Contains('=')
                                            && error.Message.Contains($"'{a[(a.IndexOf('=') + 1)..]}'", StringComparison.Ordinal));
        return flag is null ? error.Message : $"{flag[..flag.IndexOf('=')]}: a flag takes no value; got '{flag[(flag.IndexOf('=') + 1)..]}'.";
    }

    private static string ExpectedValue(Type type)
    {
        var valueType = Nullable.GetUnderlyingType(type) ?? type;
        return valueType == typeof(int) ? $"an integer from {int.MinValue} to {int.MaxValue}"
            : valueType == typeof(double) ? "a number"
            : valueType.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(valueType).Select(n => n.ToLowerInvariant()))}"
            : $"a {valueType.Name} value";
    }
}
