using System.Text.Json;
using System.Text.Json.Serialization;
using EnvNet.Kernels;

namespace EnvNet.Training.Run;

/// <summary>
/// How each accelerator choice is written: the one table that the option parser, the help's value list and run.json
/// read. People-facing names (CUDA, ILGPU CPU) are the kernels' own (<see cref="AcceleratorChoiceNames.DisplayName"/>),
/// which their errors use too.
/// </summary>
public static class AcceleratorNames
{
    /// <summary>Each choice with its command-line name and its run.json name, in the order help lists them. run.json
    /// spells OpenCL "open-cl", as it always has, so the run folders written so far still resume.</summary>
    private static readonly (AcceleratorChoice Choice, string Option, string RunFile)[] Table =
    [
        (AcceleratorChoice.Auto, "auto", "auto"),
        (AcceleratorChoice.Cpu, "cpu", "cpu"),
        (AcceleratorChoice.Cuda, "cuda", "cuda"),
        (AcceleratorChoice.IlgpuCpu, "ilgpu-cpu", "ilgpu-cpu"),
        (AcceleratorChoice.OpenCL, "opencl", "open-cl"),
    ];

    /// <summary>The names --accelerator accepts, as help lists them.</summary>
    public static IReadOnlyList<string> OptionNames { get; } = Table.Select(row => row.Option).ToArray();

    /// <summary>The --accelerator value of a choice.</summary>
    public static string OptionName(AcceleratorChoice choice) => Table.First(row => row.Choice == choice).Option;

    /// <summary>The choice an --accelerator value names, in any letter case; null for none.</summary>
    public static AcceleratorChoice? Parse(string text) =>
        Table.Where(row => string.Equals(row.Option, text, StringComparison.OrdinalIgnoreCase)).Select(row => (AcceleratorChoice?)row.Choice).FirstOrDefault();

    /// <summary>run.json's spelling of the choice.</summary>
    public sealed class RunFileConverter : JsonConverter<AcceleratorChoice>
    {
        public override AcceleratorChoice Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var name = reader.GetString();
            return Table.FirstOrDefault(row => row.RunFile == name) is { RunFile: not null } row
                ? row.Choice
                : throw new JsonException($"expected an accelerator, one of {string.Join(", ", Table.Select(r => r.RunFile))}; got '{name}'");
        }

        public override void Write(Utf8JsonWriter writer, AcceleratorChoice value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Table.First(row => row.Choice == value).RunFile);
    }
}
