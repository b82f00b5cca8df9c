using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network;

/// <summary>What one forward or backward pass is: how many samples, training or eval, and which optimiser step
/// (the step feeds the counter-based random generator of dropout, so a pass is reproducible).</summary>
public readonly record struct Pass(int Batch, bool Training, ulong Step);

/// <summary>A learnable tensor and its gradient. Backward overwrites <see cref="Grad"/> (no accumulation).</summary>
public sealed class Parameter(DeviceTensor value, DeviceTensor grad)
{
    public DeviceTensor Value { get; } = value;
    public DeviceTensor Grad { get; } = grad;
    public int[] Shape => Value.Shape;
}

/// <summary>One entry of the PyTorch-style state_dict: a float tensor on the device or an int64 counter.</summary>
public abstract record StateEntry(string Name, int[] Shape);
public sealed record TensorState(string Name, DeviceTensor Tensor) : StateEntry(Name, Tensor.Shape);
public sealed record CounterState(string Name, Func<long> Get, Action<long> Set) : StateEntry(Name, []);

/// <summary>
/// A network layer. <see cref="Build"/> allocates every buffer the layer needs for the largest batch of the run,
/// once, on the device's accelerator, and takes its kernels from the device (<see cref="ComputeDevice.Kernels"/>);
/// Forward and Backward then only launch kernels. Shapes are per sample (no batch axis): (C,H,W) for
/// images, (F) for vectors. Forward returns a view of the layer's own output buffer, Backward a view of its
/// own input-gradient buffer (an empty view where the input needs no gradient, as for the first layer).
/// </summary>
public abstract class Layer : IDisposable
{
    public int[] InputShape { get; private set; } = [];
    public int[] OutputShape { get; private set; } = [];
    public int MaxBatch { get; private set; }
    public bool NeedsInputGradient { get; private set; }

    public int[] Build(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        InputShape = (int[])inputShape.Clone();
        MaxBatch = maxBatch;
        NeedsInputGradient = needsInputGradient;
        OutputShape = OnBuild(device, inputShape, maxBatch, needsInputGradient);
        if (OutputShape.Any(d => d < 1))
            throw new ArgumentException(
                $"{GetType().Name} gets input {ShapeUtil.Format(inputShape)} and would output {ShapeUtil.Format(OutputShape)}; " +
                "the input is too short for this layer's kernels, strides or pools.");
        return OutputShape;
    }

    /// <summary>Allocates buffers on <c>device.Accelerator</c>, gets kernels from <c>device.Kernels</c> and returns the
    /// output shape per sample.</summary>
    protected abstract int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient);

    public abstract ArrayView<float> Forward(ArrayView<float> input, Pass pass);

    public abstract ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass);

    /// <summary>Learnable tensors by local name ("weight", "bias").</summary>
    public virtual IEnumerable<(string Name, Parameter Parameter)> LocalParameters => [];

    /// <summary>State that is saved but not learned by local name ("running_mean", "num_batches_tracked").</summary>
    public virtual IEnumerable<StateEntry> LocalBuffers => [];

    /// <summary>Sets the parameters to PyTorch's default initialisation, drawing from <paramref name="rng"/> in a fixed
    /// order, so a seed reproduces a network. Containers initialise their children in order.</summary>
    public virtual void ResetParameters(Random rng)
    {
        foreach (var (_, child) in Children) child.ResetParameters(rng);
    }

    /// <summary>Named sub-layers of a container; one named "" lends its children's names to this one (see
    /// <see cref="StateDict"/>).</summary>
    public virtual IEnumerable<(string Name, Layer Layer)> Children => [];

    /// <summary>Learnable values of this layer and the layers below it (BatchNorm's running statistics are buffers, not
    /// parameters, as in PyTorch's <c>parameters()</c>).</summary>
    public long ParameterCount => NamedParameters().Sum(p => ShapeUtil.Elements(p.Parameter.Shape));

    /// <summary>Floats per sample that a built layer keeps for a training step, for the memory estimate: a leaf keeps
    /// its output and, where it passes one on, its input gradient; a container, what its children keep. A layer that
    /// keeps less (a view) or more overrides this.</summary>
    public virtual long ActivationElements => Children.Any()
        ? Children.Sum(c => c.Layer.ActivationElements)
        : ShapeUtil.Elements(OutputShape) + (NeedsInputGradient ? ShapeUtil.Elements(InputShape) : 0);

    /// <summary>The layer at a dotted path of child names below this one ("feature_conv", "module.0"), with names as
    /// in <see cref="StateDict"/> (the children of a child named "" count as this layer's).</summary>
    public Layer Find(string path)
    {
        var layer = this;
        foreach (var name in path.Split('.'))
            layer = layer.NamedChildren.FirstOrDefault(c => c.Name == name).Layer
                ?? throw new ArgumentException(
                    $"No layer '{path}': '{name}' is not among [{string.Join(", ", layer.NamedChildren.Select(c => c.Name))}].", nameof(path));
        return layer;
    }

    /// <summary>The children by the names their state takes: those of a child named "" in its place.</summary>
    public IEnumerable<(string Name, Layer Layer)> NamedChildren =>
        Children.SelectMany(c => c.Name.Length == 0 ? c.Layer.NamedChildren : [c]);

    /// <summary>All learnable tensors below this layer with their full dotted names.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in LocalParameters) yield return (prefix + name, p);
        foreach (var (name, child) in Children)
            foreach (var entry in child.NamedParameters(ChildPrefix(prefix, name))) yield return entry;
    }

    /// <summary>The state_dict in PyTorch order: for each module its parameters, then its buffers, then its children.</summary>
    public IEnumerable<StateEntry> StateDict(string prefix = "")
    {
        foreach (var (name, p) in LocalParameters) yield return new TensorState(prefix + name, p.Value);
        foreach (var entry in LocalBuffers) yield return entry with { Name = prefix + entry.Name };
        foreach (var (name, child) in Children)
            foreach (var entry in child.StateDict(ChildPrefix(prefix, name))) yield return entry;
    }

    /// <summary>Builds one child; a build error names the child's dotted path ("classifier.pool4: MaxPool2d gets ..."),
    /// so a model that does not fit its input says where.</summary>
    protected static int[] BuildChild(string name, Layer child, ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        try
        {
            return child.Build(device, inputShape, maxBatch, needsInputGradient);
        }
        catch (ArgumentException e)
        {
            // A child named "" adds no name (as in StateDict).
            var path = (e.Data[LayerPathKey] as string, name) switch
            {
                (null, "") => child.GetType().Name,
                (null, _) => name,
                ({ } inner, "") => inner,
                ({ } inner, _) => $"{name}.{inner}",
            };
            var wrapped = new ArgumentException($"{path}: {e.Data[LayerErrorKey] as string ?? e.Message}", e);
            wrapped.Data[LayerPathKey] = path;
            wrapped.Data[LayerErrorKey] = e.Data[LayerErrorKey] as string ?? e.Message;
            throw wrapped;
        }
    }

    private const string LayerPathKey = "EnvNet.LayerPath", LayerErrorKey = "EnvNet.LayerError";

    /// <summary>A child named "" adds no name of its own: its state sits under its parent's names, as the tensors of a
    /// PyTorch forward that calls torch.cat on submodules' outputs without a module for the cat.</summary>
    private static string ChildPrefix(string prefix, string name) => name.Length == 0 ? prefix : prefix + name + ".";

    public virtual void Dispose()
    {
        foreach (var (_, child) in Children) child.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Runs named layers in order, like <c>torch.nn.Sequential</c> with an OrderedDict.</summary>
public class Sequential(IEnumerable<(string Name, Layer Layer)> layers) : Layer
{
    private readonly List<(string Name, Layer Layer)> _layers = layers.ToList();

    public IReadOnlyList<(string Name, Layer Layer)> Layers => _layers;
    public override IEnumerable<(string Name, Layer Layer)> Children => _layers;

    protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient)
    {
        var shape = inputShape;
        var needsGradient = needsInputGradient;
        foreach (var (name, layer) in _layers)
        {
            shape = BuildChild(name, layer, device, shape, maxBatch, needsGradient);
            // Every layer after the first receives an activation that depends on parameters, so needs its gradient.
            needsGradient = true;
        }
        return shape;
    }

    public override ArrayView<float> Forward(ArrayView<float> input, Pass pass)
    {
        var x = input;
        foreach (var (_, layer) in _layers) x = layer.Forward(x, pass);
        return x;
    }

    public override ArrayView<float> Backward(ArrayView<float> gradOutput, Pass pass)
    {
        var g = gradOutput;
        for (var i = _layers.Count - 1; i >= 0; i--) g = _layers[i].Layer.Backward(g, pass);
        return g;
    }
}
