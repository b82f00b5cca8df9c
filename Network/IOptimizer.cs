namespace EnvNet.Network;

/// <summary>
/// An optimiser over named parameters, as the training loop drives it: one update from the current gradients per
/// step, and the state a resumed run needs, named "&lt;parameter name&gt;.&lt;PyTorch state key&gt;".
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>Per-parameter state in parameter order: SGD's momentum buffers; Adam's exp_avg, exp_avg_sq and step.</summary>
    IReadOnlyList<StateEntry> State { get; }

    /// <summary>One update. <paramref name="momentum"/> is SGD's momentum, and Adam's β1 (the decay of its first
    /// moment, PyTorch's betas[0]), and Adadelta's ρ; <paramref name="weightDecay"/> is L2 decay added to the gradient in both.</summary>
    void Step(float learningRate, float momentum, float weightDecay);
}
