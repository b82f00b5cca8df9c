namespace EnvNet.Network.Layers;

/// <summary>
/// EnvNet's fully connected block: Linear, ReLU, Dropout, held as child "module" so the state-dict names are
/// PyTorch's (<c>fc5.module.0.weight</c>).
/// </summary>
public sealed class LinearBlock(int outFeatures, float dropoutProbability, ulong dropoutSeed) : Sequential(
[
    ("module", new Sequential(
    [
        ("0", new Linear(outFeatures)),
        ("1", new ReLU()),
        ("2", new Dropout(dropoutProbability, dropoutSeed)),
    ])),
]);
