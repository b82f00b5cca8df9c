using EnvNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Network;

/// <summary>What one training step reports: the batch's mean loss and how many argmax predictions hit the target's argmax.</summary>
public readonly record struct TrainStepResult(float MeanLoss, int Correct);

/// <summary>
/// EnvNet on one accelerator: the network, its loss and its optimiser, every buffer allocated once for
/// <see cref="MaxBatch"/> samples in <see cref="Create"/>. A step copies the batch in, runs forward, loss,
/// backward and the SGD update on the device, and brings back only the per-row losses and hits.
/// </summary>
public sealed class EnvNetModel : IDisposable
{
    private readonly Sequential _network;
    private readonly Layer _featureConv;
    private readonly DeviceTensor _inputs;
    private readonly DeviceTensor _targets;
    private readonly SoftmaxKlLoss _loss;
    private readonly SgdOptimizer _optimizer;
    private readonly IReadOnlyList<(string Name, Layer Layer)> _describedLayers;

    public EnvNetConfig Config { get; }
    public ComputeDevice Device { get; }
    public int MaxBatch { get; }

    /// <summary>Optimiser steps taken; feeds dropout's counter-based random generator, so it is checkpointed.</summary>
    public ulong Step { get; set; }

    /// <summary>PyTorch's state_dict: names, shapes and order as <c>EnvNet.state_dict()</c>.</summary>
    public IReadOnlyList<StateEntry> StateDict { get; }

    /// <summary>SGD momentum buffers named "&lt;parameter name&gt;.momentum_buffer", in parameter order.</summary>
    public IReadOnlyList<TensorState> OptimizerState => _optimizer.State;

    public long ParameterCount { get; }

    /// <summary>The built layer tree (PyTorch's module tree), for readers of the whole network such as the ONNX export.</summary>
    public Layer Network => _network;

    private EnvNetModel(ComputeDevice device, EnvNetConfig config, int maxBatch, int seed)
    {
        Device = device;
        Config = config;
        MaxBatch = maxBatch;
        var accelerator = device.Accelerator;
        _network = EnvNetArchitecture.CreateNetwork(config, seed);
        try
        {
            _network.Build(device, EnvNetArchitecture.InputShape(config), maxBatch, needsInputGradient: false);
            _network.ResetParameters(new Random(seed));
            _featureConv = _network.Layers[0].Layer;
            _describedLayers = _network.Layers
                .SelectMany(section => ((Sequential)section.Layer).Layers.Select(l => ($"{section.Name}.{l.Name}", l.Layer)))
                .ToList();
            _inputs = new DeviceTensor(accelerator, [maxBatch, .. EnvNetArchitecture.InputShape(config)]);
            _targets = new DeviceTensor(accelerator, maxBatch, config.Classes);
            _loss = new SoftmaxKlLoss(device, config.Classes, maxBatch);
            var parameters = _network.NamedParameters().ToList();
            _optimizer = new SgdOptimizer(device, parameters);
            StateDict = _network.StateDict().ToList();
            ParameterCount = parameters.Sum(p => ShapeUtil.Elements(p.Parameter.Shape));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Builds the network for batches of up to <paramref name="maxBatch"/> and initialises it as PyTorch does by
    /// default, drawing from <c>new Random(seed)</c> in module order; dropout seeds are derived from the same seed.</summary>
    public static EnvNetModel Create(ComputeDevice device, EnvNetConfig config, int maxBatch, int seed)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(config);
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "The largest batch must hold at least one sample.");
        return new EnvNetModel(device, config, maxBatch, seed);
    }

    /// <summary>The layers of <paramref name="config"/> as PyTorch's EnvNet module tree (Sequential "feature_conv" and
    /// "classifier"), not yet built, for callers that drive the layers themselves such as gradient checks. Build it with the
    /// per-sample input shape (1, 1, InputLength), then call ResetParameters.</summary>
    public static Sequential CreateNetwork(EnvNetConfig config, int seed) => EnvNetArchitecture.CreateNetwork(config, seed);

    /// <summary>One SGD step on a batch. <paramref name="inputs"/>: batch x InputLength waveforms; <paramref name="targets"/>:
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

    /// <summary>feature_conv's output in eval mode, batch x FeatureFilters x FeatureFrames: the learned spectrogram.</summary>
    public void FeatureResponse(ReadOnlySpan<float> inputs, int batch, Span<float> features)
    {
        CheckBatch(batch);
        CheckLength(nameof(inputs), inputs.Length, batch, Config.InputLength, "InputLength");
        CheckLength(nameof(features), features.Length, batch, Config.FeatureFilters * Config.FeatureFrames, "FeatureFilters x FeatureFrames");
        _inputs.CopyFrom(inputs);
        _featureConv.Forward(_inputs.Slice((long)batch * Config.InputLength), new Pass(batch, Training: false, Step))
            .SubView(0, features.Length).CopyToCPU(features);
    }

    /// <summary>Each layer's full name and output shape for one sample (batch axis 1), from the built layers.</summary>
    public IReadOnlyList<(string Name, int[] OutputShape)> DescribeLayers() =>
        _describedLayers.Select(l => (l.Name, (int[])[1, .. l.Layer.OutputShape])).ToList();

    /// <summary>Each layer's full name and output shape for one sample (batch axis 1), by arithmetic: allocates nothing.</summary>
    public static IReadOnlyList<(string Name, int[] OutputShape)> DescribeLayers(EnvNetConfig config) =>
        EnvNetArchitecture.Shapes(config).Select(s => (s.Layer.FullName, (int[])[1, .. s.Output])).ToList();

    /// <summary>Learnable parameters of <paramref name="config"/> by arithmetic (BatchNorm's running statistics excluded, as in PyTorch).</summary>
    public static long CountParameters(EnvNetConfig config) =>
        EnvNetArchitecture.Shapes(config).Sum(s => s.Layer.ParameterCount(s.Input));

    /// <summary>
    /// Device memory a training run needs, in bytes: 4 x (3 P + batch x (InputLength + A + 3 Classes)), where P is
    /// <see cref="CountParameters"/> (value, gradient and momentum each), A the per-sample activation elements (every
    /// leaf layer's output and input gradient) and 3 Classes the target, softmax and logit gradient rows.
    /// Kernel scratch space and BatchNorm's per-channel statistics are left out.
    /// </summary>
    public static long EstimateTrainingBytes(EnvNetConfig config, int batch)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch must hold at least one sample.");
        var shapes = EnvNetArchitecture.Shapes(config);
        var parameters = shapes.Sum(s => s.Layer.ParameterCount(s.Input));
        var activations = shapes.Sum(s => s.Layer.ActivationElements(s.Input, s.Output));
        return sizeof(float) * (3 * parameters + batch * (config.InputLength + activations + 3L * config.Classes));
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
