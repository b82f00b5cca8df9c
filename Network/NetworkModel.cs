using System.Runtime.CompilerServices;
using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network;

/// <summary>What one training step reports: the batch's mean loss and how many argmax predictions hit the target's argmax.</summary>
public readonly record struct TrainStepResult(float MeanLoss, int Correct);

/// <summary>A front end of the filter-bank probe as built: (filters, frames) per sample.</summary>
public sealed record BuiltFrontEnd(FilterBankFrontEnd FrontEnd, int Filters, int Frames);

/// <summary>
/// A model on one accelerator: the network of a <see cref="ModelConfig"/>, its loss and its optimiser, every buffer
/// allocated once for <see cref="MaxBatch"/> samples in <see cref="Create"/>. A step copies the batch in, runs forward,
/// loss, backward and the optimiser update on the device, and brings back only the per-row losses and hits.
/// Shapes, parameter counts and memory come from the built layers; the static methods build the network once on a
/// CPU accelerator for one sample to read them without a model.
/// </summary>
public sealed class NetworkModel : IDisposable
{
    private readonly Layer _network;
    private readonly DeviceTensor _inputs;
    private readonly DeviceTensor _targets;
    private readonly SoftmaxKlLoss _loss;
    private readonly IOptimizer _optimizer;
    private readonly IReadOnlyList<(BuiltFrontEnd FrontEnd, Layer[] Layers)> _frontEnds;

    public ModelConfig Config { get; }
    public ComputeDevice Device { get; }
    public int MaxBatch { get; }

    /// <summary>Optimiser steps taken; feeds dropout's counter-based random generator, so it is checkpointed.</summary>
    public ulong Step { get; set; }

    /// <summary>PyTorch's state_dict: names, shapes and order as the PyTorch module's <c>state_dict()</c>.</summary>
    public IReadOnlyList<StateEntry> StateDict { get; }

    /// <summary>The optimiser's state to checkpoint, named "&lt;parameter name&gt;.&lt;PyTorch state key&gt;", in parameter order.</summary>
    public IReadOnlyList<StateEntry> OptimizerState => _optimizer.State;

    public long ParameterCount { get; }

    /// <summary>The built layer tree (PyTorch's module tree), for readers of the whole network such as the ONNX export.</summary>
    public Layer Network => _network;

    /// <summary>The filter-bank probe's front ends with their built output sizes.</summary>
    public IReadOnlyList<BuiltFrontEnd> FrontEnds => _frontEnds.Select(f => f.FrontEnd).ToList();

    private NetworkModel(ComputeDevice device, ModelConfig config, OptimizerKind optimizer, int maxBatch, int seed)
    {
        Device = device;
        Config = config;
        MaxBatch = maxBatch;
        var accelerator = device.Accelerator;
        _network = config.CreateNetwork(seed);
        try
        {
            Build(_network, config, device, maxBatch);
            _network.ResetParameters(new Random(seed));
            _frontEnds = config.FrontEnds.Select(f => ResolveFrontEnd(_network, f)).ToList();
            _inputs = new DeviceTensor(accelerator, [maxBatch, .. config.InputShape]);
            _targets = new DeviceTensor(accelerator, maxBatch, config.Classes);
            _loss = new SoftmaxKlLoss(device, config.Classes, maxBatch);
            var parameters = _network.NamedParameters().ToList();
            _optimizer = Optimizers.Of(optimizer).Create(device, parameters);
            StateDict = _network.StateDict().ToList();
            ParameterCount = _network.ParameterCount;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Builds the network for batches of up to <paramref name="maxBatch"/> and initialises it as PyTorch does by
    /// default, drawing from <c>new Random(seed)</c> in module order; dropout seeds are derived from the same seed.</summary>
    public static NetworkModel Create(ComputeDevice device, ModelConfig config, int maxBatch, int seed,
        OptimizerKind optimizer = OptimizerKind.SgdNesterov)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(config);
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "The largest batch must hold at least one sample.");
        return new NetworkModel(device, config, optimizer, maxBatch, seed);
    }

    /// <summary>One optimiser step on a batch. <paramref name="inputs"/>: batch x InputLength waveforms; <paramref name="targets"/>:
    /// batch x Classes probability rows. Loss: KL(target || softmax(logits)) averaged over the batch.</summary>
    public TrainStepResult TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch,
        float learningRate, float momentum, float weightDecay)
    {
        CheckBatch(batch);
        CheckLength(nameof(inputs), inputs.Length, batch, Config.InputLength, "InputLength");
        CheckLength(nameof(targets), targets.Length, batch, Config.Classes, "Classes");
        _inputs.CopyFrom(inputs);
        _targets.CopyFrom(targets);

        var pass = new Pass(batch, Training: true, Step);
        var logits = _network.Forward(_inputs.Slice((long)batch * Config.InputLength), pass);
        var meanLoss = _loss.Compute(logits, _targets.Slice((long)batch * Config.Classes), batch);
        _network.Backward(_loss.Gradient, pass);
        _optimizer.Step(learningRate, momentum, weightDecay);
        Step++;
        return new TrainStepResult(meanLoss, _loss.Correct);
    }

    /// <summary>Logits (batch x Classes) in eval mode: BatchNorm uses its running statistics, dropout is off.</summary>
    public void PredictLogits(ReadOnlySpan<float> inputs, int batch, Span<float> logits)
    {
        CheckBatch(batch);
        CheckLength(nameof(inputs), inputs.Length, batch, Config.InputLength, "InputLength");
        CheckLength(nameof(logits), logits.Length, batch, Config.Classes, "Classes");
        _inputs.CopyFrom(inputs);
        _network.Forward(_inputs.Slice((long)batch * Config.InputLength), new Pass(batch, Training: false, Step))
            .SubView(0, logits.Length).CopyToCPU(logits);
    }

    /// <summary>A front end's output in eval mode, batch x Filters x Frames: the learned spectrogram of
    /// <see cref="FrontEnds"/>[<paramref name="frontEnd"/>].</summary>
    public void FrontEndResponse(int frontEnd, ReadOnlySpan<float> inputs, int batch, Span<float> features)
    {
        if (frontEnd < 0 || frontEnd >= _frontEnds.Count)
            throw new ArgumentOutOfRangeException(nameof(frontEnd), frontEnd, $"{Config.Name} has {_frontEnds.Count} front end(s).");
        var (built, layers) = _frontEnds[frontEnd];
        CheckBatch(batch);
        CheckLength(nameof(inputs), inputs.Length, batch, Config.InputLength, "InputLength");
        CheckLength(nameof(features), features.Length, batch, built.Filters * built.Frames, "Filters x Frames");
        _inputs.CopyFrom(inputs);
        var pass = new Pass(batch, Training: false, Step);
        var x = _inputs.Slice((long)batch * Config.InputLength);
        foreach (var layer in layers) x = layer.Forward(x, pass);
        x.SubView(0, features.Length).CopyToCPU(features);
    }

    /// <summary>Each layer's full name and output shape for one sample (batch axis 1), from the built layers.</summary>
    public IReadOnlyList<(string Name, int[] OutputShape)> DescribeLayers() => DescribeLayers(_network);

    /// <summary>The layers of <paramref name="config"/>, not yet built, for callers that drive them themselves such
    /// as gradient checks: build with <see cref="ModelConfig.InputShape"/>, then call ResetParameters.</summary>
    public static Layer CreateNetwork(ModelConfig config, int seed) => config.CreateNetwork(seed);

    /// <summary>Each layer's full name and output shape for one sample (batch axis 1), read off the network built on
    /// the CPU accelerator for one sample; a clear error names the layer whose input is too small.</summary>
    public static IReadOnlyList<(string Name, int[] OutputShape)> DescribeLayers(ModelConfig config) => ShapesOf(config).Layers;

    /// <summary>The layers of a built network one level below its top-level children ("feature_conv.conv1", "module.0"),
    /// each with its output shape for one sample (batch axis 1).</summary>
    public static IReadOnlyList<(string Name, int[] OutputShape)> DescribeLayers(Layer network) =>
        network.NamedChildren.SelectMany(section => section.Layer.NamedChildren.Any()
                ? section.Layer.NamedChildren.Select(l => ($"{section.Name}.{l.Name}", (int[])[1, .. l.Layer.OutputShape]))
                : [(section.Name, (int[])[1, .. section.Layer.OutputShape])])
            .ToList();

    /// <summary>Learnable parameters of <paramref name="config"/> (BatchNorm's running statistics excluded, as in PyTorch).</summary>
    public static long CountParameters(ModelConfig config) => ShapesOf(config).Parameters;

    /// <summary>
    /// Device memory a training run needs, in bytes: 4 x (3 P + batch x (input + A + 3 Classes)), where P is
    /// <see cref="CountParameters"/> (value, gradient and optimiser state each), A the activation floats per sample the
    /// built layers keep (<see cref="Layer.ActivationElements"/>) and 3 Classes the target, softmax and logit gradient
    /// rows. Kernel scratch space and BatchNorm's per-channel statistics are left out.
    /// </summary>
    public static long EstimateTrainingBytes(ModelConfig config, int batch)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch must hold at least one sample.");
        var shapes = ShapesOf(config);
        return sizeof(float) * (3 * shapes.Parameters
                                + batch * (ShapeUtil.Elements(config.InputShape) + shapes.ActivationElements + 3L * config.Classes));
    }

    /// <summary>What the static methods read off the built network, once per config object.</summary>
    private sealed record InspectedShapes(IReadOnlyList<(string Name, int[] OutputShape)> Layers, long Parameters, long ActivationElements);

    private static readonly ConditionalWeakTable<ModelConfig, InspectedShapes> Inspected = new();

    private static InspectedShapes ShapesOf(ModelConfig config) => Inspected.GetValue(config, c =>
        Inspect(c, network => new InspectedShapes(DescribeLayers(network), network.ParameterCount, network.ActivationElements)));

    /// <summary>The per-sample output shape of a front end, building only its layers on the CPU accelerator.</summary>
    public static int[] FrontEndShape(ModelConfig config, FilterBankFrontEnd frontEnd)
    {
        using var network = config.CreateNetwork(seed: 0);
        var shape = config.InputShape;
        foreach (var path in frontEnd.LayerPaths)
            shape = network.Find(path).Build(InspectionDevice.Value, shape, maxBatch: 1, needsInputGradient: false);
        return shape;
    }

    /// <summary>Builds the network of <paramref name="config"/> on the CPU accelerator for one sample and reads it.</summary>
    public static T Inspect<T>(ModelConfig config, Func<Layer, T> read)
    {
        using var network = config.CreateNetwork(seed: 0);
        Build(network, config, InspectionDevice.Value, maxBatch: 1);
        return read(network);
    }

    private static readonly Lazy<ComputeDevice> InspectionDevice = new(() => ComputeDevice.Create(AcceleratorChoice.Cpu));

    private static void Build(Layer network, ModelConfig config, ComputeDevice device, int maxBatch)
    {
        if (config.InputLength < 1 || config.Classes < 1)
            throw new ArgumentException(
                $"Model '{config.Name}': InputLength and Classes must be positive, got {config.InputLength} and {config.Classes}.");
        try
        {
            network.Build(device, config.InputShape, maxBatch, needsInputGradient: false);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(
                $"Model '{config.Name}' with {config.InputLength} input samples: {e.Message} Make the input longer or the kernels, strides or pools smaller.", e);
        }
        var output = network.OutputShape;
        if (output.Length != 1 || output[0] != config.Classes)
            throw new ArgumentException(
                $"Model '{config.Name}': the network outputs {ShapeUtil.Format(output)} per sample, expected ({config.Classes}) logits.");
    }

    private static (BuiltFrontEnd, Layer[]) ResolveFrontEnd(Layer network, FilterBankFrontEnd frontEnd)
    {
        var layers = frontEnd.LayerPaths.Select(network.Find).ToArray();
        var shape = layers[^1].OutputShape;
        return (new BuiltFrontEnd(frontEnd, shape[0], (int)(ShapeUtil.Elements(shape) / shape[0])), layers);
    }

    public void Dispose()
    {
        _network.Dispose();
        _inputs?.Dispose();
        _targets?.Dispose();
        _loss?.Dispose();
        _optimizer?.Dispose();
    }

    private void CheckBatch(int batch)
    {
        if (batch < 1 || batch > MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"The batch must hold 1 to {MaxBatch} samples (the model's MaxBatch).");
    }

    private static void CheckLength(string name, int actual, int batch, int perSample, string perSampleName)
    {
        if (actual != (long)batch * perSample)
            throw new ArgumentException(
                $"Expected {name} to hold batch x {perSampleName} = {batch} x {perSample} = {(long)batch * perSample} values, got {actual}.", name);
    }
}
