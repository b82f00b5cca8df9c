using EnvNet.Kernels;

namespace EnvNet.Network;

/// <summary>
/// torch.optim.SGD with momentum (dampening 0) and, by default, Nesterov, over named parameters. Momentum buffers
/// start at zero, which reproduces PyTorch's first step (buf = g); they are checkpointed as
/// "&lt;param name&gt;.momentum_buffer". Weight decay applies to every parameter given, as with one PyTorch param group.
/// </summary>
public sealed class SgdOptimizer : IOptimizer
{
    private readonly List<(Parameter Parameter, DeviceTensor Buffer)> _slots = [];
    private readonly List<TensorState> _state = [];
    private readonly ISgdOps _ops;

    /// <param name="device">Where the parameters live; its kernels run the update.</param>
    public SgdOptimizer(ComputeDevice device, IEnumerable<(string Name, Parameter Parameter)> parameters, bool nesterov = true)
    {
        Nesterov = nesterov;
        _ops = device.Kernels.Sgd;
        foreach (var (name, parameter) in parameters)
        {
            var buffer = new DeviceTensor(device.Accelerator, parameter.Shape);
            _slots.Add((parameter, buffer));
            _state.Add(new TensorState(name + ".momentum_buffer", buffer));
        }
        if (_slots.Count == 0) throw new ArgumentException("SGD was given no parameters to optimise.", nameof(parameters));
    }

    public bool Nesterov { get; }

    /// <summary>The momentum buffers in parameter order, named "&lt;param name&gt;.momentum_buffer".</summary>
    public IReadOnlyList<TensorState> State => _state;

    IReadOnlyList<StateEntry> IOptimizer.State => _state;

    /// <summary>Updates every parameter from its current gradient (one kernel per tensor, no synchronisation).</summary>
    public void Step(float learningRate, float momentum, float weightDecay)
    {
        var args = new SgdArgs(learningRate, momentum, weightDecay, Nesterov);
        foreach (var (parameter, buffer) in _slots)
            _ops.Step(parameter.Value.View, parameter.Grad.View, buffer.View, args);
    }

    public void Dispose()
    {
        foreach (var (_, buffer) in _slots) buffer.Dispose();
    }
}
