using System.CommandLine;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Run;

namespace EnvNet.Training.Commands;

/// <summary>Options several commands share, worded and shown the same way in every help text: values in lower
/// case as the value name (<c>--accelerator &lt;auto|cpu|cuda|ilgpu-cpu|opencl&gt;</c>) and defaults as System.CommandLine
/// shows them (<c>[default: …]</c>), written out by <see cref="Default"/> where the default is not a constant.</summary>
public static class CommonOptions
{
    public static string AcceleratorValues { get; } = string.Join("|", AcceleratorNames.OptionNames);
    private const string AcceleratorDescription = "Device to run on: auto picks CUDA, then OpenCL, then the CPU; cpu runs the CPU host kernels, ilgpu-cpu ILGPU's simulated GPU (slow; for testing the GPU kernels).";

    /// <summary>The registry's model names (<see cref="ModelRegistry.Names"/>), as the value name of --model.</summary>
    public static string ModelValues => string.Join("|", ModelRegistry.Names);

    /// <summary>--accelerator with its default, auto.</summary>
    public static Option<string> Accelerator() => new("--accelerator")
    {
        HelpName = AcceleratorValues, Description = AcceleratorDescription, DefaultValueFactory = _ => AcceleratorNames.OptionName(AcceleratorChoice.Auto),
    };

    /// <summary>--accelerator without a value when not given, for <c>train --resume</c>, which keeps the run's choice.</summary>
    public static Option<string?> AcceleratorOrRunChoice() => new("--accelerator")
    {
        HelpName = AcceleratorValues, Description = $"{AcceleratorDescription} {Default("auto; with --resume, the run's")}",
    };

    public static Option<string> Model(string defaultModel) => new("--model")
    {
        HelpName = ModelValues, Description = "Model ('envnet models' lists them).", DefaultValueFactory = _ => defaultModel,
    };

    public static Option<string?> Cache() => new("--cache")
    {
        HelpName = "DIR", Description = $"Cache for decoded audio and generated data. {Default("$ENVNET_CACHE or ~/.cache/envnet")}",
    };

    /// <summary>A default in help text as System.CommandLine writes the defaults it knows.</summary>
    public static string Default(string value) => $"[default: {value}]";
}
