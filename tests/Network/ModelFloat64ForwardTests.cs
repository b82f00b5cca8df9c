using System.Diagnostics;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

/// <summary>
/// Each registered model as a whole against a float64 forward (issue #13): the eval-mode logits of
/// <see cref="NetworkModel.PredictLogits"/> on the CPU host backend, with random weights and random BatchNorm affine
/// parameters and running statistics, against an interpreter that walks the built layer tree and applies the float64
/// references of tests/References to each layer, reading sizes from the layers' own properties and weights from
/// their parameters and state. A layer kind the interpreter does not know fails the test with its type name.
/// </summary>
[TestClass]
public sealed class ModelFloat64ForwardTests
{
    private const int Batch = 2;
    private const int Classes = 5;

    /// <summary>Registered models whose float64 forward takes too long for the suite, each with the model that stands for
    /// it: the same layer kinds and configuration code at smaller sizes. envnet-v2's row took 20 s on 2 cores (the
    /// reference convolutions), over the ~10 s a row may take; envnet's took 8 s and has its own row.</summary>
    public static IReadOnlyDictionary<string, string> StandIns { get; } = new Dictionary<string, string>
    {
        ["envnet-v2"] = "envnet-v2-tiny",
    };

    /// <summary>Every registered model but the stood-in ones, by name, one data row each (so a new model gets a row
    /// without an edit here).</summary>
    public static IEnumerable<object[]> Models =>
        ModelRegistry.Names.Where(name => !StandIns.ContainsKey(name)).Select(name => new object[] { name });

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void LogitsMatchAFloat64Forward(string modelName)
    {
        var watch = Stopwatch.StartNew();
        using var model = ModelWithRandomNorms(modelName, seed: 31);
        var rng = new Random(7);
        var inputs = TestData.Uniform(rng, Batch * model.Config.InputLength, -0.5f, 0.5f);
        var logits = new float[Batch * Classes];
        model.PredictLogits(inputs, Batch, logits);
        var device = watch.Elapsed;

        var (expected, shape) = Float64Forward.Run(model.Network, "", inputs, model.Config.InputShape, Batch);
        CollectionAssert.AreEqual(new[] { Classes }, shape, $"{modelName}: the float64 forward ends in {ShapeUtil.Format(shape)}.");

        var scale = Math.Max(1, expected.Max(Math.Abs));
        var maxAbs = expected.Select((e, i) => Math.Abs(e - logits[i])).Max();
        // Tolerance 1e-4·max(1, max|logit|): float32 rounds each product and partial sum at 2^-24 ≈ 6e-8 relative; dot
        // products of up to ~10^4 terms and ~40 layers in series can grow that to ~1e-6..1e-5 of the activations' scale,
        // so 1e-4 keeps a margin over the worst case (measured: ≤ 1e-7 absolute, ≤ 5e-7 of max|logit|). The logits of
        // these random models are < 1, so the bound is 1e-4 absolute: it catches gross errors (running_var read as running_mean
        // moved the tiny models' logits ≥ 5e-3), not an error below ~1e-3 of the logits (dropping BatchNorm's eps moves them ~2e-7).
        var bound = 1e-4 * scale;
        Console.WriteLine($"{modelName}: max |Δ| {maxAbs:E2}, max |Δ|/max|logit| {maxAbs / expected.Max(Math.Abs):E2}, " +
                          $"max |logit| {expected.Max(Math.Abs):G4}, device {device.TotalSeconds:F1} s, total {watch.Elapsed.TotalSeconds:F1} s");
        Assert.IsTrue(maxAbs <= bound,
            $"{modelName}: logits differ from the float64 forward by {maxAbs:E3} > {bound:E3}; " +
            $"got [{string.Join(", ", logits)}], expected [{string.Join(", ", expected.Select(e => e.ToString("G7")))}].");
    }

    [TestMethod]
    public void EveryRegisteredModelHasARow()
    {
        var rows = Models.Select(r => (string)r[0]).ToHashSet();
        foreach (var model in ModelRegistry.Models)
            Assert.IsTrue(rows.Contains(model.Name) || (StandIns.TryGetValue(model.Name, out var standIn) && rows.Contains(standIn)),
                $"Model '{model.Name}' has no row in {nameof(LogitsMatchAFloat64Forward)} and no stand-in with one.");
        foreach (var (model, standIn) in StandIns)
            Assert.IsTrue(ModelRegistry.Contains(model) && ModelRegistry.Contains(standIn), $"Stand-in '{model}' -> '{standIn}' names an unregistered model.");
    }

    [TestMethod]
    public void AnUnknownLayerKindFailsWithItsName()
    {
        using var network = new Sequential([("0", new Flatten()), ("odd", new UnknownLayer())]);
        network.Build(TestDevice.Host, [1, 4], maxBatch: 1, needsInputGradient: false);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => Float64Forward.Run(network, "", new float[4], [1, 4], 1));
        StringAssert.Contains(e.Message, nameof(UnknownLayer));
        StringAssert.Contains(e.Message, "odd");
    }

    /// <summary>The interpreter checks what it computes: a perturbed weight in the float64 path shows in the logits.</summary>
    [TestMethod]
    public void APerturbedWeightFailsTheComparison()
    {
        using var model = ModelWithRandomNorms("envnet-tiny", seed: 31);
        var inputs = TestData.Uniform(new Random(7), Batch * model.Config.InputLength, -0.5f, 0.5f);
        var logits = new float[Batch * Classes];
        model.PredictLogits(inputs, Batch, logits);
        var linear = model.Network.NamedParameters().Last(p => p.Name.EndsWith(".weight", StringComparison.Ordinal)).Parameter;
        var weights = linear.Value.ToArray();
        weights[0] += 0.01f;
        var (expected, _) = Float64Forward.Run(model.Network, "", inputs, model.Config.InputShape, Batch,
            overrides: new Dictionary<Parameter, float[]> { [linear] = weights });
        var scale = Math.Max(1, expected.Max(Math.Abs));
        var maxAbs = expected.Select((e, i) => Math.Abs(e - logits[i])).Max();
        Assert.IsTrue(maxAbs > 1e-4 * scale, $"A perturbed weight changed the logits by only {maxAbs:E3}.");
    }

    private static NetworkModel ModelWithRandomNorms(string modelName, int seed)
    {
        var model = NetworkModel.Create(TestDevice.Host, ModelRegistry.Config(modelName, Classes), Batch, seed);
        var rng = new Random(seed);
        var norms = model.StateDict.Where(e => e.Name.EndsWith(".running_mean", StringComparison.Ordinal))
            .Select(e => e.Name[..^"running_mean".Length]).ToHashSet();
        foreach (var entry in model.StateDict.OfType<TensorState>())
        {
            var dot = entry.Name.LastIndexOf('.') + 1;
            if (!norms.Contains(entry.Name[..dot])) continue;
            var (low, high) = entry.Name[dot..] is "running_mean" or "bias" ? (-0.2f, 0.2f) : (0.5f, 1.5f);
            entry.Tensor.CopyFrom(TestData.Uniform(rng, (int)entry.Tensor.Length, low, high));
        }
        return model;
    }

    private sealed class UnknownLayer : Layer
    {
        protected override int[] OnBuild(ComputeDevice device, int[] inputShape, int maxBatch, bool needsInputGradient) => inputShape;
        public override ILGPU.ArrayView<float> Forward(ILGPU.ArrayView<float> input, Pass pass) => input;
        public override ILGPU.ArrayView<float> Backward(ILGPU.ArrayView<float> gradOutput, Pass pass) => gradOutput;
    }
}

/// <summary>
/// The eval-mode forward of a built layer tree in float64: each layer kind by its reference in tests/References. The
/// references take float32 inputs, so activations are rounded to float32 between layers (relative 2^-24, far below the
/// tests' bound); everything inside a layer is float64. Kinds are matched exactly (a subclass of a known container
/// is not assumed to compute what its base does), and an unknown kind throws with its path and type name.
/// </summary>
internal static class Float64Forward
{
    public static (double[] Values, int[] Shape) Run(Layer layer, string path, float[] input, int[] shape, int batch,
        IReadOnlyDictionary<Parameter, float[]>? overrides = null)
    {
        var (values, outShape) = Forward(layer, path, input.Select(v => (double)v).ToArray(), shape, batch, overrides ?? new Dictionary<Parameter, float[]>());
        return (values, outShape);
    }

    private static float[] F(double[] x) => x.Select(v => (float)v).ToArray();

    private static (double[], int[]) Forward(Layer layer, string path, double[] x, int[] shape, int n,
        IReadOnlyDictionary<Parameter, float[]> overrides)
    {
        float[] W(Parameter p) => overrides.TryGetValue(p, out var v) ? v : p.Value.ToArray();
        string Join(string name) => path.Length == 0 ? name : name.Length == 0 ? path : $"{path}.{name}";
        if (layer.InputShape.Length > 0 && layer is not (Sequential or ConvBatchNormReLU or ConvBlock or LinearBlock) &&
            !layer.InputShape.SequenceEqual(shape))
            throw new InvalidOperationException($"'{path}' ({layer.GetType().Name}) was built for {ShapeUtil.Format(layer.InputShape)}, gets {ShapeUtil.Format(shape)}.");

        switch (layer)
        {
            case var _ when layer.GetType() == typeof(Sequential) || layer is ConvBatchNormReLU or ConvBlock or LinearBlock:
                foreach (var (name, child) in layer.Children) (x, shape) = Forward(child, Join(name), x, shape, n, overrides);
                return (x, shape);
            case Conv2d conv:
            {
                var w = conv.Weight.Shape; // [out, in, kH, kW]
                var s = new Conv2dShape(n, shape[0], shape[1], shape[2], w[0], w[2], w[3],
                    conv.Stride.H, conv.Stride.W, conv.Padding.H, conv.Padding.W);
                var y = Conv2dReference.Forward(s, F(x), W(conv.Weight));
                if (conv.Bias is { } bias)
                {
                    var b = W(bias);
                    for (long i = 0; i < y.Length; i++) y[i] += b[i / (s.OutH * s.OutW) % s.Cout];
                }
                return (y, [s.Cout, s.OutH, s.OutW]);
            }
            case Conv1d conv:
            {
                var w = conv.Weight.Shape; // [out, in, k]
                var s = new Conv1dShape(n, shape[0], shape[1], w[0], w[2], conv.Stride, conv.Padding.Left, conv.Padding.Right);
                return (Conv1dReference.Forward(s, F(x), W(conv.Weight), conv.Bias is { } b ? W(b) : null), [s.Cout, s.OutL]);
            }
            case BatchNorm2d norm:
                return (BatchNormReference.EvalOutput(new BatchNormShape(n, shape[0], shape[1] * shape[2]), F(x),
                    norm.RunningMean.ToArray(), norm.RunningVar.ToArray(), W(norm.Weight), W(norm.Bias), norm.Eps), shape);
            case BatchNorm1d norm:
                return (BatchNormReference.EvalOutput(new BatchNormShape(n, shape[0], shape.Length == 2 ? shape[1] : 1), F(x),
                    norm.RunningMean.ToArray(), norm.RunningVar.ToArray(), W(norm.Weight), W(norm.Bias), norm.Eps), shape);
            case ReLU:
                return (ActivationReference.ReluForward(F(x)), shape);
            case MaxPool2d pool:
            {
                var s = new MaxPool2dShape(n, shape[0], shape[1], shape[2], pool.Kernel.H, pool.Kernel.W);
                return (PoolReference.MaxPoolForward(s, F(x)).Output, [s.C, s.OutH, s.OutW]);
            }
            case WindowPool pool:
            {
                // A 1-D pool is a 2-D one over a 1-high image; a global pool is one window as large as the input.
                var (c, h, wd) = shape.Length == 2 ? (shape[0], 1, shape[1]) : (shape[0], shape[1], shape[2]);
                var s = pool.IsGlobal
                    ? new WindowPoolShape(n, c, h, wd, h, wd, h, wd)
                    : new WindowPoolShape(n, c, h, wd, pool.Kernel.H, pool.Kernel.W, pool.Stride.H, pool.Stride.W,
                        pool.Padding.H, pool.Padding.W, pool.CeilMode);
                var y = pool.Kind == PoolKind.Max ? WindowPoolReference.MaxForward(s, F(x)).Output : WindowPoolReference.AverageForward(s, F(x));
                int[] outShape = shape.Length == 2 ? [c, s.OutW] : [c, s.OutH, s.OutW];
                if (!outShape.SequenceEqual(layer.OutputShape))
                    throw new InvalidOperationException($"'{path}': the reference pools to {ShapeUtil.Format(outShape)}, the layer to {ShapeUtil.Format(layer.OutputShape)}.");
                return (y, outShape);
            }
            case Transpose12:
                return (PoolReference.Transpose12(new TransposeShape(n, shape[0], shape[1], shape[2]), F(x)), [shape[1], shape[0], shape[2]]);
            case Flatten:
                return (x, [(int)ShapeUtil.Elements(shape)]);
            case Reshape:
                // The values stay; the shape is the one the layer was built to give (checked against its input above).
                return (x, layer.OutputShape);
            case Linear linear:
            {
                var (outF, inF) = (linear.Weight.Shape[0], linear.Weight.Shape[1]);
                if (shape.Length != 1 || shape[0] != inF) throw new InvalidOperationException($"'{path}': Linear({inF}) gets {ShapeUtil.Format(shape)}.");
                return (LinearReference.Forward(F(x), W(linear.Weight), W(linear.Bias), n, inF, outF), [outF]);
            }
            case Dropout:
                return (x, shape); // eval mode: the identity
            case Concat concat:
            {
                var parts = concat.Children.Select(b => Forward(b.Layer, Join(b.Name), x, shape, n, overrides)).ToList();
                var spatial = (int)ShapeUtil.Elements(parts[0].Item2[1..]);
                var joined = BranchReference.ConcatChannels(n, spatial, parts.Select(p => (p.Item1, p.Item2[0])).ToArray());
                // Stacked as image rows, (C_i, L) parts become one (1, ΣC_i, L) image: the same values.
                return (joined, layer.OutputShape);
            }
            case Residual block:
            {
                var (body, bodyShape) = (x, shape);
                foreach (var (name, child) in block.Body) (body, bodyShape) = Forward(child, Join(name), body, bodyShape, n, overrides);
                var (shortcut, shortcutShape) = block.Shortcut is { } s ? Forward(s.Layer, Join(s.Name), x, shape, n, overrides) : (x, shape);
                if (!bodyShape.SequenceEqual(shortcutShape))
                    throw new InvalidOperationException($"'{path}': body {ShapeUtil.Format(bodyShape)}, shortcut {ShapeUtil.Format(shortcutShape)}.");
                return (BranchReference.Residual(body, shortcut, block.ReluAfter), bodyShape);
            }
            default:
                throw new NotSupportedException(
                    $"Float64 forward: layer '{path}' is a {layer.GetType().Name}, a kind the float64 interpreter does not know; add it to {nameof(Float64Forward)}.");
        }
    }
}
