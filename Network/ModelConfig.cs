namespace EnvNet.Network;

/// <summary>
/// The layers the filter-bank probe reads: a front end over the raw waveform whose output is (filters, ...frames),
/// e.g. EnvNet's feature_conv or one branch of a multi-scale model. <see cref="LayerPaths"/> are dotted paths in the
/// network (<see cref="Layer.Find"/>), run in order on the model's input.
/// </summary>
public sealed record FilterBankFrontEnd(string Name, IReadOnlyList<string> LayerPaths);

/// <summary>
/// A network and what it takes: its name, the input (one waveform of <see cref="InputLength"/> samples at
/// <see cref="SampleRate"/>), the number of classes, its layers and the front ends the filter-bank probe reads.
/// Everything else about its shapes (per-layer outputs, parameter count, memory) is read off the built layers
/// (<see cref="NetworkModel"/>). A named model adds its default recipe in <see cref="ModelDefinition"/>.
/// </summary>
public abstract record ModelConfig(string Name, int SampleRate, int InputLength, int Classes)
{
    /// <summary>The per-sample shape the network is built for: the waveform, e.g. (1,1,InputLength) for a 2-D first
    /// convolution or (1,InputLength) for a 1-D one.</summary>
    public abstract int[] InputShape { get; }

    /// <summary>The layers as PyTorch's module tree (names as in its state_dict), not yet built. Layers that draw
    /// random numbers while training (dropout) take their seeds from <paramref name="seed"/>.</summary>
    public abstract Layer CreateNetwork(int seed);

    /// <summary>The front ends the filter-bank probe measures, each on its own.</summary>
    public abstract IReadOnlyList<FilterBankFrontEnd> FrontEnds { get; }
}

/// <summary>A named model of the registry: its config for a class count and its default training recipe.</summary>
/// <param name="Reference">Where the model comes from, one line (paper, code).</param>
/// <param name="Esc10Recipe">The recipe on the ESC-10 subset where it differs from <paramref name="Recipe"/>.</param>
public sealed record ModelDefinition(string Name, string Reference, Func<int, ModelConfig> Config, TrainingRecipe Recipe,
    TrainingRecipe? Esc10Recipe = null)
{
    /// <param name="onEsc10">Whether the run trains on the ESC-10 subset.</param>
    public TrainingRecipe RecipeFor(bool onEsc10, bool betweenClass) =>
        (onEsc10 ? Esc10Recipe ?? Recipe : Recipe).WithBetweenClass(betweenClass);
}
