using System.Collections.Concurrent;

namespace EnvNet.Network;

/// <summary>
/// Every model envnet can train, by name: the one place that decides which names exist. A model is one file under
/// Network/Models/ that defines its <see cref="ModelDefinition"/> (layers, input, recipe, probe front ends) and one
/// line here.
/// </summary>
public static class ModelRegistry
{
    public static IReadOnlyList<ModelDefinition> Models { get; } =
    [
        EnvNetModels.EnvNet,
        EnvNetModels.EnvNetTiny,
        EnvNetV2Models.EnvNetV2,
        EnvNetV2Models.EnvNetV2Tiny,
        WaveMxNetModels.M3,
        WaveMxNetModels.M5,
        WaveMxNetModels.M11,
        WaveMxNetModels.M18,
        WaveMxNetModels.M34Res,
        WaveMsNetModels.WaveMsNet,
        MultiResCnnModels.MultiResCnn,
        AbdoliNetModels.AbdoliNet,
    ];

    public static IReadOnlyList<string> Names { get; } = Models.Select(m => m.Name).ToArray();

    public static bool Contains(string name) => Names.Contains(name);

    /// <summary>The message for a name that is not registered, naming the option it came from and the known names.</summary>
    public static string UnknownModelMessage(string option, string name) =>
        $"{option}: expected one of {string.Join(", ", Names)}; got '{name}'.";

    public static ModelDefinition Definition(string name) =>
        Models.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"Unknown model '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>The config of model <paramref name="name"/> for <paramref name="classes"/> classes: one object per
    /// name and class count, so what is read off its built layers (<see cref="NetworkModel.CountParameters"/>) is read once.</summary>
    public static ModelConfig Config(string name, int classes)
    {
        var definition = Definition(name);
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "A model needs at least one class.");
        return Configs.GetOrAdd((name, classes), _ =>
        {
            var config = definition.Config(classes);
            return config.Name == name && config.Classes == classes ? config
                : throw new InvalidOperationException(
                    $"Model '{name}': its config says '{config.Name}' with {config.Classes} classes, expected '{name}' with {classes}.");
        });
    }

    private static readonly ConcurrentDictionary<(string Name, int Classes), ModelConfig> Configs = new();
}
