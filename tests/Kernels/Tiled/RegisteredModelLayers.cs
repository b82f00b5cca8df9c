using EnvNet.Network;
using EnvNet.Training.Commands;

namespace EnvNet.Tests;

/// <summary>Every leaf layer of every registered model (<see cref="CudaPlanView.Layers"/>, per sample) with the batch of
/// the model's recipe: built once per test run, so that a model added to the registry is checked by construction.</summary>
internal static class RegisteredModelLayers
{
    private static readonly Lazy<IReadOnlyList<(string Model, PlannedLayer Layer, int RecipeBatch)>> Layers = new(() =>
        ModelRegistry.Models
            .SelectMany(model => CudaPlanView.Layers(ModelRegistry.Config(model.Name, ModelListing.Classes))
                .Select(layer => (model.Name, layer, model.Recipe.Batch)))
            .ToList());

    public static IReadOnlyList<(string Model, PlannedLayer Layer, int RecipeBatch)> All => Layers.Value;
}
