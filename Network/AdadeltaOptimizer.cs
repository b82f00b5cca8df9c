using EnvNet.Kernels;

namespace EnvNet.Network;

/// <summary>
/// torch.optim.Adadelta(params, lr, rho, eps=1e-6, weight_decay) over named parameters, one param group. Per parameter
/// PyTorch keeps "square_avg", "acc_delta" (zero at the start) and "step"; the step counts are equal for every
/// parameter, so one host counter backs all of them. ρ is given per step (<see cref="IOptimizer.Step"/>'s momentum,
/// PyTorch's default 0.9), eps at construction.
/// </summary>
public sealed class AdadeltaOptimizer : IOptimizer
{
    private readonly List<(Parameter Parameter, DeviceTensor SquareAvg, DeviceTensor AccDelta)> _slots = [];
    private readonly List<StateEntry> _state = [];
    private readonly IAdadeltaOps _ops;
    private long _steps;

    /// <param name="device">Where the parameters live; its kernels run the update.</param>
    public AdadeltaOptimizer(ComputeDevice device, IEnumerable<(string Name, Parameter Parameter)> parameters, float eps = 1e-6f)
    {
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "Adadelta's eps must be positive.");
        Eps = eps;
        _ops = device.Kernels.Adadelta;
        foreach (var (name, parameter) in parameters)
        {
            var squareAvg = new DeviceTensor(device.Accelerator, parameter.Shape);
            var accDelta = new DeviceTensor(device.Accelerator, parameter.Shape);
            _slots.Add((parameter, squareAvg, accDelta));
            _state.Add(new TensorState(name + ".square_avg", squareAvg));
            _state.Add(new TensorState(name + ".acc_delta", accDelta));
            _state.Add(new CounterState(name + ".step", () => _steps, value => _steps = value));
        }
        if (_slots.Count == 0) throw new ArgumentException("Adadelta was given no parameters to optimise.", nameof(parameters));
    }

    public float Eps { get; }

    /// <summary>Steps taken (PyTorch's state["step"], the same for every parameter).</summary>
    public long Steps => _steps;

    /// <summary>Per parameter "&lt;name&gt;.square_avg", "&lt;name&gt;.acc_delta" and the counter "&lt;name&gt;.step".</summary>
    public IReadOnlyList<StateEntry> State => _state;

    /// <summary>Updates every parameter from its current gradient (one kernel per tensor, no synchronisation).</summary>
    /// <param name="rho">ρ, the decay of both running averages (PyTorch's rho, default 0.9).</param>
    public void Step(float learningRate, float rho, float weightDecay)
    {
        if (!(rho is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "Adadelta's rho must be in [0, 1).");
        _steps++;
        var args = new AdadeltaArgs(learningRate, rho, Eps, weightDecay);
        foreach (var (parameter, squareAvg, accDelta) in _slots)
            _ops.Step(parameter.Value.View, parameter.Grad.View, squareAvg.View, accDelta.View, args);
    }

    public void Dispose()
    {
        foreach (var (_, squareAvg, accDelta) in _slots)
        {
            squareAvg.Dispose();
            accDelta.Dispose();
        }
    }
}
