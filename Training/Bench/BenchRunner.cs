using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Network.Layers;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace EnvNet.Training.Bench;

/// <summary>What to benchmark: a network built for <see cref="Batch"/> samples of <see cref="InputShape"/> for the
/// per-layer times, and one whole training step (forward, loss, backward, update) of a model taking
/// <see cref="ModelBytes"/> of device buffers.</summary>
public sealed record BenchSubject(string Model, int Batch, Layer Network, int[] InputShape, Action TrainStep, long ModelBytes);

/// <summary>One timed layer: its name, kind, output shape per batch, median times and the FLOPs counted for it.</summary>
public sealed record LayerTiming(
    string Layer, string Kind, int[] OutputShape, double ForwardMs, double BackwardMs, long ForwardFlops, long BackwardFlops)
{
    public double? ForwardGflops => ForwardFlops > 0 && ForwardMs > 0 ? ForwardFlops / ForwardMs / 1e6 : null;
    public double? BackwardGflops => BackwardFlops > 0 && BackwardMs > 0 ? BackwardFlops / BackwardMs / 1e6 : null;
}

/// <summary>The figures of one <c>envnet bench</c> run, with the same field names as bench/reference/envnet_reference.py.</summary>
/// <param name="StepCpuMs">Process CPU time per training step (mean over the timed and warm-up steps): on a machine
/// others share, a steadier measure of the work than the wall-clock <paramref name="StepMs"/>.</param>
public sealed record BenchResult(
    string Framework, string Device, string Model, int Batch, double StepMs, double SamplesPerSecond, long StepFlops,
    double StepGflops, long ModelBytes, long? DeviceUsedBytes, IReadOnlyList<LayerTiming> Layers, double? StepCpuMs = null)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static BenchResult FromJson(string json) =>
        JsonSerializer.Deserialize<BenchResult>(json, Json) ?? throw new InvalidDataException("The bench JSON is empty.");
}

/// <summary>
/// Times a network layer by layer and as a whole training step. Each layer runs in isolation on the activation it sees
/// in the network (recorded by one forward and backward pass through the leaves); a sample is a run of calls long
/// enough to dwarf the launch and synchronisation cost, closed by <c>Synchronize</c>, and the figure is the median
/// sample divided by its calls. A fused block (<see cref="ConvBatchNormReLU"/>) is timed as one layer.
/// </summary>
public static class BenchRunner
{
    /// <summary>Shortest sample: below this, a sample repeats the call until it is reached (host timer resolution and
    /// the ~10 µs of a launch-and-synchronise round trip stay under 1%).</summary>
    private static readonly TimeSpan MinimumSample = TimeSpan.FromMilliseconds(2);

    /// <param name="timeLayers">false: time only the training step (the layers' FLOPs are still counted).</param>
    public static BenchResult Run(ComputeDevice device, BenchSubject subject, int samples, int warmup, Action<string>? log = null,
        bool timeLayers = true)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "--steps must be at least 1.");
        var accelerator = device.Accelerator;
        var batch = subject.Batch;
        var pass = new Pass(batch, Training: true, Step: 0);
        var leaves = Leaves(subject.Network, "").ToList();

        var timings = timeLayers ? TimeLayers(accelerator, subject, leaves, pass, samples, warmup, log) : [];

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stepMs = Median(accelerator, subject.TrainStep, samples, warmup, repeatShortSamples: false);
        // Median ran warmup + 1 + samples steps.
        var stepCpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / (warmup + 1 + samples);
        var stepFlops = leaves.Sum(l => FlopCount.Forward(l.Layer, batch) + FlopCount.Backward(l.Layer, batch));
        long? deviceUsed = accelerator is CudaAccelerator cuda ? accelerator.MemorySize - cuda.GetFreeMemory() : null;
        return new BenchResult($"EnvNet.Gpu (ILGPU {typeof(Accelerator).Assembly.GetName().Version}, {device.Kernels.Name})",
            $"{accelerator.AcceleratorType} {accelerator.Name}", subject.Model, batch, stepMs, batch / stepMs * 1e3, stepFlops,
            stepFlops / stepMs / 1e6, subject.ModelBytes, deviceUsed, timings, stepCpuMs);
    }

    /// <summary>Each leaf timed alone, forward and backward, on the activation and gradient it sees in the network.</summary>
    private static List<LayerTiming> TimeLayers(Accelerator accelerator, BenchSubject subject, List<(string Name, Layer Layer)> leaves,
        Pass pass, int samples, int warmup, Action<string>? log)
    {
        var batch = subject.Batch;
        // Record each leaf's input and output gradient as the network passes them on.
        var rng = new Random(1);
        using var input = new DeviceTensor(accelerator, [batch, .. subject.InputShape]);
        input.CopyFrom(Uniform(rng, (int)input.Length, 0.1f));
        var inputs = new List<ArrayView<float>>();
        var x = input.View;
        foreach (var (_, layer) in leaves)
        {
            inputs.Add(x);
            x = layer.Forward(x, pass);
        }
        using var gradient = new DeviceTensor(accelerator, (int)x.Length);
        gradient.CopyFrom(Uniform(rng, (int)gradient.Length, 1f));
        var gradOutputs = new ArrayView<float>[leaves.Count];
        var g = gradient.View;
        for (var i = leaves.Count - 1; i >= 0; i--)
        {
            gradOutputs[i] = g;
            g = leaves[i].Layer.Backward(g, pass);
        }
        accelerator.Synchronize();

        var timings = new List<LayerTiming>();
        for (var i = 0; i < leaves.Count; i++)
        {
            var (name, layer) = leaves[i];
            var layerInput = inputs[i];
            var layerGrad = gradOutputs[i];
            var forwardMs = Median(accelerator, () => layer.Forward(layerInput, pass), samples, warmup);
            var backwardMs = Median(accelerator, () => layer.Backward(layerGrad, pass), samples, warmup);
            var forwardFlops = FlopCount.Forward(layer, batch);
            var backwardFlops = FlopCount.Backward(layer, batch);
            timings.Add(new LayerTiming(name, Kind(layer), [batch, .. layer.OutputShape], forwardMs, backwardMs, forwardFlops, backwardFlops));
            log?.Invoke($"{name,-40} fwd {forwardMs,9:F3} ms  bwd {backwardMs,9:F3} ms");
        }
        return timings;
    }

    /// <summary>The timed units of a network in execution order with dotted names: the layers of every
    /// <see cref="Sequential"/>, one after another; fused blocks and layers that run their children otherwise (branches
    /// joined, residual sums) whole, so each unit's input is the previous unit's output.</summary>
    public static IEnumerable<(string Name, Layer Layer)> Leaves(Layer layer, string name)
    {
        if (layer is not Sequential sequential || layer is ConvBatchNormReLU { IsFused: true })
        {
            yield return (name, layer);
            yield break;
        }
        foreach (var (childName, child) in sequential.Layers)
            foreach (var leaf in Leaves(child, name.Length == 0 ? childName : name + "." + childName))
                yield return leaf;
    }

    private static string Kind(Layer layer) => layer is ConvBatchNormReLU block ? block.Kind : layer.GetType().Name;

    /// <summary>Median over <paramref name="samples"/> samples of the time per call, after <paramref name="warmup"/> calls.</summary>
    private static double Median(Accelerator accelerator, Action call, int samples, int warmup, bool repeatShortSamples = true)
    {
        for (var i = 0; i < warmup; i++) call();
        accelerator.Synchronize();
        var watch = Stopwatch.StartNew();
        call();
        accelerator.Synchronize();
        var calls = repeatShortSamples && watch.Elapsed < MinimumSample
            ? (int)Math.Min(1000, Math.Ceiling(MinimumSample / Max(watch.Elapsed, TimeSpan.FromMicroseconds(1))))
            : 1;
        var times = new double[samples];
        for (var s = 0; s < samples; s++)
        {
            watch.Restart();
            for (var c = 0; c < calls; c++) call();
            accelerator.Synchronize();
            times[s] = watch.Elapsed.TotalMilliseconds / calls;
        }
        Array.Sort(times);
        return times[samples / 2];
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static float[] Uniform(Random rng, int n, float scale)
    {
        var values = new float[n];
        for (var i = 0; i < n; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return values;
    }
}

/// <summary>
/// FLOPs counted per layer, as bench/reference/envnet_reference.py counts them: a convolution's forward is 2·(output
/// elements)·Cin·(kernel elements), 1-D or 2-D, a fully connected layer's 2·batch·in·out; the backward counts the weight gradient (as much as
/// the forward) plus the input gradient (as much again) where the layer passes a gradient on. Element-wise layers,
/// BatchNorm and pooling count nothing (they are reported by time). Recognised from the "weight" parameter's rank; a
/// container timed whole (branches joined, a residual block) counts what the layers below it count.
/// </summary>
public static class FlopCount
{
    public static long Forward(Layer layer, int batch) => Count(layer, batch, backward: false);

    public static long Backward(Layer layer, int batch) => Count(layer, batch, backward: true);

    private static long Count(Layer layer, int batch, bool backward)
    {
        if (layer is not ConvBatchNormReLU && layer.Children.Any()) return layer.Children.Sum(c => Count(c.Layer, batch, backward));
        var weight = Weight(layer);
        if (weight is null) return 0;
        // A convolution's weight is [out, in, kernel...]: each output element takes in x kernel multiply-adds.
        var forward = weight.Length >= 3
            ? 2L * batch * ShapeUtil.Elements(layer.OutputShape) * ShapeUtil.Elements(weight.AsSpan(1))
            : 2L * batch * weight[0] * weight[1];
        return backward && layer.NeedsInputGradient ? 2 * forward : forward;
    }

    /// <summary>The weight of a convolution or linear layer, or of the convolution inside a fused block.</summary>
    private static int[]? Weight(Layer layer)
    {
        if (layer is ConvBatchNormReLU block) return block.Conv.Weight.Shape;
        return layer.LocalParameters.Where(p => p.Name == "weight").Select(p => p.Parameter.Shape).FirstOrDefault(s => s.Length >= 2);
    }
}
