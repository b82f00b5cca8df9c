using System.Globalization;
using EnvNet.Kernels;

namespace EnvNet.Network;

/// <summary>The update rule a model trains with.</summary>
public enum OptimizerKind
{
    /// <summary>torch.optim.SGD with Nesterov momentum (<see cref="SgdOptimizer"/>).</summary>
    SgdNesterov,

    /// <summary>torch.optim.SGD with plain (heavy-ball) momentum.</summary>
    SgdMomentum,

    /// <summary>torch.optim.Adam (L2 weight decay added to the gradient, not AdamW).</summary>
    Adam,

    /// <summary>torch.optim.Adadelta (eps 1e-6, ρ = the recipe's momentum, L2 weight decay added to the gradient).</summary>
    Adadelta,
}

/// <summary>One optimiser: its name, what the step's momentum argument means to it, and how it is built.</summary>
/// <param name="MomentumName">The name of the momentum argument where it is not SGD's momentum: Adam's β1,
/// Adadelta's rho.</param>
public sealed record OptimizerDescription(
    OptimizerKind Kind, string Name, string? MomentumName,
    Func<ComputeDevice, IEnumerable<(string Name, Parameter Parameter)>, IOptimizer> Create)
{
    /// <summary>For the run's log: "SGD-Nesterov 0.9", "Adam (β1 0.9)", "Adadelta (rho 0.95)".</summary>
    public string Describe(double momentum) =>
        MomentumName is null ? $"{Name} {Number(momentum)}" : $"{Name} ({MomentumName} {Number(momentum)})";

    /// <summary>For the model table, shorter: Adam's β1 is left out, as every recipe keeps PyTorch's default:
    /// "SGD-Nesterov 0.9", "Adam", "Adadelta rho 0.95".</summary>
    public string Brief(double momentum) => Kind switch
    {
        OptimizerKind.Adam => Name,
        _ => MomentumName is null ? $"{Name} {Number(momentum)}" : $"{Name} {MomentumName} {Number(momentum)}",
    };

    private static string Number(double value) => value.ToString("G12", CultureInfo.InvariantCulture);
}

/// <summary>Every optimiser a recipe can name, described once.</summary>
public static class Optimizers
{
    public static IReadOnlyList<OptimizerDescription> All { get; } =
    [
        new(OptimizerKind.SgdNesterov, "SGD-Nesterov", null, (device, parameters) => new SgdOptimizer(device, parameters)),
        new(OptimizerKind.SgdMomentum, "SGD momentum", null, (device, parameters) => new SgdOptimizer(device, parameters, nesterov: false)),
        new(OptimizerKind.Adam, "Adam", "β1", (device, parameters) => new AdamOptimizer(device, parameters)),
        new(OptimizerKind.Adadelta, "Adadelta", "rho", (device, parameters) => new AdadeltaOptimizer(device, parameters)),
    ];

    public static OptimizerDescription Of(OptimizerKind kind) =>
        All.FirstOrDefault(o => o.Kind == kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "No such optimizer.");
}
