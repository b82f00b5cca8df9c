using System.CommandLine;
using System.Globalization;
using EnvNet.Network;
using EnvNet.Training.Bench;

namespace EnvNet.Training.Commands;

/// <summary>One registered model as <c>envnet models</c> lists it, read off its network built for 50 classes.</summary>
public sealed record ModelListing(ModelDefinition Definition, ModelConfig Config, long Parameters, long TrainingFlopsPerSample)
{
    public const int Classes = 50;

    /// <summary>Builds the model's network on the CPU accelerator for one sample and counts its parameters and the
    /// FLOPs of a training step per sample, as <c>envnet bench</c> counts them (<see cref="FlopCount"/>).</summary>
    public static ModelListing Of(ModelDefinition definition)
    {
        var config = definition.Config(Classes);
        var (parameters, flops) = NetworkModel.Inspect(config, network => (network.ParameterCount,
            BenchRunner.Leaves(network, "").Sum(l => FlopCount.Forward(l.Layer, 1) + FlopCount.Backward(l.Layer, 1))));
        return new ModelListing(definition, config, parameters, flops);
    }
}

/// <summary><c>envnet models</c>: every model of the registry with its input, size, cost and default recipe; with
/// <c>--markdown</c> the table the README shows between its model-table markers.</summary>
public static class ModelsCommand
{
    public static string OptionDescription => "One of: " + string.Join(", ", ModelRegistry.Names) + " ('envnet models' lists them).";

    public static Command Create(CliContext context)
    {
        var markdown = new Option<bool>("--markdown") { Description = "Print a Markdown table (the README's model table)." };
        var command = new Command("models", "List every model: sample rate, input length, parameters, FLOPs per training sample and default recipe.")
        {
            markdown,
        };
        command.SetAction(parsed =>
        {
            var listings = ModelRegistry.Models.Select(ModelListing.Of).ToList();
            context.Out.Write(parsed.GetValue(markdown) ? MarkdownTable(listings) : Text(listings));
            return ExitCodes.Success;
        });
        return command;
    }

    public static string MarkdownTable(IEnumerable<ModelListing> listings)
    {
        var lines = new List<string>
        {
            $"| model | from | sample rate | input | parameters ({ModelListing.Classes} classes) | GFLOP per training sample | default recipe |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        };
        lines.AddRange(listings.Select(m =>
            $"| `{m.Config.Name}` | {m.Definition.Reference} | {m.Config.SampleRate} Hz | {Input(m.Config)} | {m.Parameters.ToString("N0", CultureInfo.InvariantCulture)} | " +
            $"{Gflop(m.TrainingFlopsPerSample)} | {m.Definition.Recipe} |"));
        return string.Join("\n", lines) + "\n";
    }

    private static string Text(IReadOnlyList<ModelListing> listings)
    {
        var width = listings.Max(m => m.Config.Name.Length) + 2;
        var lines = new List<string> { $"{"model".PadRight(width)}{"rate",8} {"input",-20} {"parameters",12} {"GFLOP/sample",12}  default recipe" };
        lines.AddRange(listings.Select(m =>
            $"{m.Config.Name.PadRight(width)}{m.Config.SampleRate,8} {Input(m.Config),-20} {m.Parameters.ToString("N0", CultureInfo.InvariantCulture),12} " +
            $"{Gflop(m.TrainingFlopsPerSample),12}  {m.Definition.Recipe}"));
        lines.Add($"Parameters for {ModelListing.Classes} classes; FLOPs of a training step (forward and backward) per sample, as 'envnet bench' counts them.");
        return string.Join("\n", lines) + "\n";
    }

    private static string Input(ModelConfig config) =>
        string.Create(CultureInfo.InvariantCulture, $"{config.InputLength} ({config.InputLength / (double)config.SampleRate:F2} s)");

    private static string Gflop(long flops) => (flops / 1e9).ToString("F3", CultureInfo.InvariantCulture);
}
