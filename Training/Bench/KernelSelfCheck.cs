using EnvNet.Kernels;
using EnvNet.Kernels.Plain;
using EnvNet.Kernels.Tiled;
using EnvNet.Network;
using EnvNet.Network.Layers;

namespace EnvNet.Training.Bench;

/// <summary>One comparison of <c>envnet selfcheck</c>: the tiled kernel against the plain one on the same random data.</summary>
public sealed record SelfCheckRow(string Shape, string Kernel, double MaxRelativeError, bool Passed);

/// <summary>
/// <c>envnet selfcheck</c>: runs the tiled convolution kernels and the plain one-thread-per-output kernels (the
/// references of the test suite) on fresh random data on the chosen accelerator, for the convolutions of EnvNet and
/// EnvNet-v2 (read off the registry's models) at a small batch, and the tiled GEMM with its K split and fused bias against the naive GEMM for the fully
/// connected layers at batch 64 (the split depends on the rows), and reports max |tiled − plain| / max |plain| per kernel. Both are float32 sums of the
/// same terms in different orders, so they agree to about (terms)·2^-24 relative; <see cref="Tolerance"/> leaves a
/// wide margin yet fails on any missing or misplaced term. Outputs are poisoned with NaN first, so an element a
/// kernel never writes fails too. On OpenCL the tiled convolutions are skipped: ILGPU generates no warp shuffles there
/// (see <see cref="TiledKernelBackend"/>).
/// </summary>
public static class KernelSelfCheck
{
    public const double Tolerance = 1e-4;

    /// <summary>The models whose layers the check covers: EnvNet's and EnvNet-v2's, for ESC-50.</summary>
    private static readonly string[] CheckedModels = ["envnet", "envnet-v2"];

    /// <summary>(model and layer name, per-sample shape at batch 1) of every distinct convolution of
    /// <see cref="CheckedModels"/>, read off their built layers.</summary>
    public static IReadOnlyList<(string Name, Conv2dShape Shape)> Convolutions => ModelLayers.Value.Convolutions;

    /// <summary>(model and layer name, in, out) of every distinct fully connected layer of <see cref="CheckedModels"/>,
    /// whose products the GEMM check covers.</summary>
    public static IReadOnlyList<(string Name, int In, int Out)> FullyConnected => ModelLayers.Value.FullyConnected;

    private static readonly Lazy<(List<(string, Conv2dShape)> Convolutions, List<(string, int, int)> FullyConnected)> ModelLayers = new(() =>
    {
        var layers = CheckedModels.SelectMany(model => NetworkModel.Inspect(ModelRegistry.Config(model, 50),
            network => Descendants(network, model + " ").ToList())).ToList();
        return (
            layers.Where(l => l.Layer is Conv2d).Select(l => (l.Name, ((Conv2d)l.Layer).SampleShape)).DistinctBy(l => l.SampleShape).ToList(),
            layers.Where(l => l.Layer is Linear).Select(l => (l.Name, ((Linear)l.Layer).InFeatures, ((Linear)l.Layer).OutFeatures))
                .DistinctBy(l => (l.InFeatures, l.OutFeatures)).ToList());
    });

    private static IEnumerable<(string Name, Layer Layer)> Descendants(Layer layer, string prefix) =>
        layer.NamedChildren.SelectMany(c => Descendants(c.Layer, $"{prefix}{c.Name}.").Prepend(($"{prefix}{c.Name}", c.Layer)));

    /// <summary>Rows of the GEMM check: the training batch, which sets the K split.</summary>
    public const int GemmRows = 64;

    /// <param name="convolutions">Convolutions to check (default <see cref="Convolutions"/>), per sample.</param>
    /// <param name="fullyConnected">Fully connected layers to check (default <see cref="FullyConnected"/>).</param>
    /// <param name="gemmRows">Rows of their products (default <see cref="GemmRows"/>).</param>
    public static IReadOnlyList<SelfCheckRow> Run(ComputeDevice device, int batch, Action<SelfCheckRow>? report = null,
        Action<string>? log = null, IReadOnlyList<(string Name, Conv2dShape Shape)>? convolutions = null,
        IReadOnlyList<(string Name, int In, int Out)>? fullyConnected = null, int gemmRows = GemmRows)
    {
        var accelerator = device.Accelerator;
        var plain = Conv2dOps.For(accelerator);
        var tiled = TiledConvOps.For(accelerator);
        var rng = new Random(Environment.TickCount);
        var rows = new List<SelfCheckRow>();
        if (!TiledKernelBackend.CompilesOn(accelerator))
        {
            log?.Invoke($"tiled convolutions: not checked on {accelerator.AcceleratorType} (they use warp shuffles; the network runs the plain kernels here)");
            convolutions = [];
        }
        foreach (var (name, perSample) in convolutions ?? Convolutions)
        {
            var shape = perSample.WithBatch(batch);
            // A shape whose tiles would not fit in shared memory runs the plain kernels in the network: nothing to compare.
            if (tiled.Plan(shape) is not { } plan)
            {
                log?.Invoke($"{name}: no tiled plan (the network runs the plain kernels here)");
                continue;
            }
            using var x = Random(accelerator, rng, shape.InputLength);
            using var w = Random(accelerator, rng, shape.WeightLength);
            using var dy = Random(accelerator, rng, shape.OutputLength);
            using var rearranged = new DeviceTensor(accelerator, (int)shape.WeightLength);
            using var partial = new DeviceTensor(accelerator, (int)plan.PartialLength);

            using (var expected = new DeviceTensor(accelerator, (int)shape.OutputLength))
            using (var actual = Poisoned(accelerator, shape.OutputLength))
            {
                plain.Forward(shape, x.View, w.View, expected.View);
                tiled.Forward(plan, batch, x.View, w.View, actual.View, default);
                rows.Add(Compare(name, shape, "forward", expected, actual, report));
            }
            using (var expected = new DeviceTensor(accelerator, (int)shape.InputLength))
            using (var actual = Poisoned(accelerator, shape.InputLength))
            {
                plain.BackwardInput(shape, dy.View, w.View, expected.View);
                tiled.BackwardInput(plan, batch, dy.View, w.View, rearranged.View, actual.View);
                rows.Add(Compare(name, shape, "input gradient", expected, actual, report));
            }
            using (var expected = new DeviceTensor(accelerator, (int)shape.WeightLength))
            using (var actual = Poisoned(accelerator, shape.WeightLength))
            {
                plain.BackwardWeight(shape, x.View, dy.View, expected.View);
                tiled.BackwardWeight(plan, batch, x.View, dy.View, partial.View, actual.View);
                rows.Add(Compare(name, shape, "weight gradient", expected, actual, report));
            }
        }
        CheckGemms(accelerator, rng, fullyConnected ?? FullyConnected, gemmRows, rows, report);
        return rows;
    }

    /// <summary>A Linear layer's three products at <paramref name="gemmRows"/> rows, split as the layer splits them: forward
    /// x·Wᵀ + b, input gradient dy·W, weight gradient dyᵀ·x; the reference is the naive GEMM (+ b added on the host).</summary>
    private static void CheckGemms(ILGPU.Runtime.Accelerator accelerator, Random rng,
        IReadOnlyList<(string Name, int In, int Out)> fullyConnected, int gemmRows, List<SelfCheckRow> rows,
        Action<SelfCheckRow>? report)
    {
        var gemm = GemmOps.For(accelerator);
        foreach (var (name, inFeatures, outFeatures) in fullyConnected)
        {
            using var x = Random(accelerator, rng, (long)gemmRows * inFeatures);
            using var w = Random(accelerator, rng, (long)outFeatures * inFeatures);
            using var bias = Random(accelerator, rng, outFeatures);
            using var dy = Random(accelerator, rng, (long)gemmRows * outFeatures);
            var biasValues = bias.ToArray();
            (string Kernel, GemmShape Shape, DeviceTensor A, DeviceTensor B, bool WithBias)[] products =
            [
                ("gemm forward", new GemmShape(gemmRows, outFeatures, inFeatures, false, true), x, w, true),
                ("gemm input grad", new GemmShape(gemmRows, inFeatures, outFeatures, false, false), dy, w, false),
                ("gemm weight grad", new GemmShape(outFeatures, inFeatures, gemmRows, true, false), dy, x, false),
            ];
            foreach (var (kernel, shape, a, b, withBias) in products)
            {
                var split = gemm.PlanSplit(shape);
                var length = (long)shape.M * shape.N;
                using var expected = new DeviceTensor(accelerator, (int)length);
                using var actual = Poisoned(accelerator, length);
                using var scratch = Poisoned(accelerator, Math.Max(1, split.ScratchLength(shape)));
                gemm.MultiplyNaive(a.View, b.View, expected.View, shape);
                gemm.Multiply(a.View, b.View, actual.View, shape, split, scratch.View,
                    withBias ? bias.View : ILGPU.ArrayView<float>.Empty);
                var reference = expected.ToArray();
                if (withBias)
                    for (var i = 0; i < reference.Length; i++) reference[i] += biasValues[i % shape.N];
                var label = $"{name} {split.Splits} split{(split.Splits == 1 ? "" : "s")}";
                rows.Add(Compare(label, kernel, reference, actual.ToArray(), report));
            }
        }
    }

    private static SelfCheckRow Compare(string name, Conv2dShape shape, string kernel, DeviceTensor expected, DeviceTensor actual,
        Action<SelfCheckRow>? report) => Compare($"{name} N={shape.N}", kernel, expected.ToArray(), actual.ToArray(), report);

    private static SelfCheckRow Compare(string label, string kernel, float[] e, float[] a, Action<SelfCheckRow>? report)
    {
        double scale = 0, worst = 0;
        for (var i = 0; i < e.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(e[i]));
            var error = Math.Abs((double)a[i] - e[i]);
            worst = double.IsNaN(error) ? double.PositiveInfinity : Math.Max(worst, error);
        }
        var relative = scale > 0 ? worst / scale : worst;
        var row = new SelfCheckRow(label, kernel, relative, relative <= Tolerance);
        report?.Invoke(row);
        return row;
    }

    private static DeviceTensor Random(ILGPU.Runtime.Accelerator accelerator, Random rng, long length)
    {
        var values = new float[length];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        var tensor = new DeviceTensor(accelerator, (int)length);
        tensor.CopyFrom(values);
        return tensor;
    }

    private static DeviceTensor Poisoned(ILGPU.Runtime.Accelerator accelerator, long length)
    {
        var tensor = new DeviceTensor(accelerator, (int)length);
        tensor.CopyFrom(Enumerable.Repeat(float.NaN, (int)length).ToArray());
        return tensor;
    }
}
