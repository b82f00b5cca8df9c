using EnvNet.Kernels;

namespace EnvNet.Network;

/// <summary>
/// torch.optim.Adam(params, lr, betas=(β1, β2), eps, weight_decay) over named parameters, one param group, amsgrad off.
/// Per parameter PyTorch keeps "exp_avg", "exp_avg_sq" (zero at the start) and "step"; the step counts are equal for
/// every parameter here, so one host counter backs all of them and the bias corrections 1 − β^t are computed from it
/// in double, as PyTorch computes them in Python floats. β1 is given per step (<see cref="IOptimizer.Step"/>'s
/// momentum), β2 and eps at construction.
/// </summary>
public sealed class AdamOptimizer : IOptimizer
{
    private readonly List<(Parameter Parameter, DeviceTensor ExpAvg, DeviceTensor ExpAvgSq)> _slots = [];
    private readonly List<StateEntry> _state = [];
    private readonly IAdamOps _ops;
    private long _steps;

    /// <param name="device">Where the parameters live; its kernels run the update.</param>
    public AdamOptimizer(ComputeDevice device, IEnumerable<(string Name, Parameter Parameter)> parameters, float beta2 = 0.999f,
        float eps = 1e-8f)
    {
        if (!(beta2 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Adam's β2 must be in [0, 1).");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "Adam's eps must be positive.");
        (Beta2, Eps) = (beta2, eps);
        _ops = device.Kernels.Adam;
        foreach (var (name, parameter) in parameters)
        {
            var expAvg = new DeviceTensor(device.Accelerator, parameter.Shape);
            var expAvgSq = new DeviceTensor(device.Accelerator, parameter.Shape);
            _slots.Add((parameter, expAvg, expAvgSq));
            _state.Add(new TensorState(name + ".exp_avg", expAvg));
            _state.Add(new TensorState(name + ".exp_avg_sq", expAvgSq));
            _state.Add(new CounterState(name + ".step", () => _steps, value => _steps = value));
        }
        if (_slots.Count == 0) throw new ArgumentException("Adam was given no parameters to optimise.", nameof(parameters));
    }

    public float Beta2 { get; }
    public float Eps { get; }

    /// <summary>Steps taken (PyTorch's state["step"], the same for every parameter).</summary>
    public long Steps => _steps;

    /// <summary>Per parameter "&lt;name&gt;.exp_avg", "&lt;name&gt;.exp_avg_sq" and the counter "&lt;name&gt;.step".</summary>
    public IReadOnlyList<StateEntry> State => _state;

    /// <summary>Updates every parameter from its current gradient (one kernel per tensor, no synchronisation).</summary>
    /// <param name="beta1">β1, the first moment's decay (PyTorch's betas[0], default 0.9).</param>
    public void Step(float learningRate, float beta1, float weightDecay)
    {
        if (!(beta1 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Adam's β1 must be in [0, 1).");
        _steps++;
        var biasCorrection1 = 1 - Math.Pow(beta1, _steps);
        var biasCorrection2 = 1 - Math.Pow(Beta2, _steps);
        var args = new AdamArgs((float)(learningRate / biasCorrection1), beta1, Beta2, Eps, weightDecay,
            (float)Math.Sqrt(biasCorrection2));
        foreach (var (parameter, expAvg, expAvgSq) in _slots)
            _ops.Step(parameter.Value.View, parameter.Grad.View, expAvg.View, expAvgSq.View, args);
    }

    public void Dispose()
    {
        foreach (var (_, expAvg, expAvgSq) in _slots)
        {
            expAvg.Dispose();
            expAvgSq.Dispose();
        }
    }
}
