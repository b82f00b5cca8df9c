namespace EnvNet.Network;

/// <summary>
/// Updates a network's parameters from their gradients, one launch per tensor and no synchronisation. What it keeps
/// between steps (momentum, moment estimates) is <see cref="State"/>, which checkpoints save and restore by name.
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>The state tensors in parameter order, named "&lt;parameter name&gt;.&lt;buffer&gt;".</summary>
    IReadOnlyList<TensorState> State { get; }

    /// <param name="momentum">SGD's momentum; an optimiser without one ignores it.</param>
    void Step(float learningRate, float momentum, float weightDecay);
}
