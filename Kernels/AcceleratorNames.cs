using System.Text.Json;
using System.Text.Json.Serialization;

namespace EnvNet.Kernels;

/// <summary>
/// How each accelerator choice is written: the one table that the option parser, the help's value list, run.json and
/// the messages people read (<see cref="DisplayName"/>) all use.
/// </summary>
public static class AcceleratorNames
{
    /// <summary>Each choice with its command-line name, its run.json name and the name people write, in the order help
    /// lists them. run.json spells OpenCL "open-cl", as it always has, so the run folders written so far still resume.</summary>
    private static readonly (AcceleratorChoice Choice, string Option, string RunFile, string Display)[] Table =
    [
        (AcceleratorChoice.Auto, "auto", "auto", "auto"),
        (AcceleratorChoice.Cpu, "cpu", "cpu", "CPU"),
        (AcceleratorChoice.Cuda, "cuda", "cuda", "CUDA"),
        (AcceleratorChoice.IlgpuCpu, "ilgpu-cpu", "ilgpu-cpu", "ILGPU CPU"),
        (AcceleratorChoice.OpenCL, "opencl", "open-cl", "OpenCL"),
    ];

    /// <summary>The name people write: CUDA, OpenCL, CPU, ILGPU CPU.</summary>
    public static string DisplayName(this AcceleratorChoice choice) => Table.First(row => row.Choice == choice).Display;

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
