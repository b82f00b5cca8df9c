using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;
using ILGPU.Runtime;

namespace EnvNet.Tests;

[TestClass]
public sealed class WindowPoolTests
{
    /// <summary>1-D (H = 1): floor-mode leftovers, ceil mode with a partial last window (as wavemxnet's 125 → 32),
    /// padding as WaveMsNet's MaxPool1d(150, padding=6) in small, overlapping windows. 2-D: overlapping 3×3 stride 2 with
    /// padding in ceil mode, ceil mode where the last window would start in the right padding and is dropped (5 → 3
    /// with kernel 2, stride 2, padding 1), and unequal kernel and stride per axis.</summary>
    public static IEnumerable<object?[]> Shapes =>
        from shape in new[]
        {
            new WindowPoolShape(2, 3, 1, 37, 1, 4, 1, 4),
            new WindowPoolShape(2, 3, 1, 37, 1, 4, 1, 4, ceilMode: true),
            new WindowPoolShape(2, 2, 1, 53, 1, 15, 1, 15, pw: 6),
            new WindowPoolShape(2, 2, 1, 29, 1, 3, 1, 2, pw: 1, ceilMode: true),
            new WindowPoolShape(2, 3, 7, 9, 3, 3, 2, 2, 1, 1, ceilMode: true),
            new WindowPoolShape(1, 2, 5, 5, 2, 2, 2, 2, 1, 1, ceilMode: true),
            new WindowPoolShape(2, 2, 6, 11, 2, 3, 1, 2),
            new WindowPoolShape(2, 3, 1, 40, 1, 40, 1, 40),
        }
        from backend in TestDevice.Backends
        select new object?[] { shape, backend.Kernels, backend.Width };

    /// <summary>Max copies input values and routes each gradient to one element, summed where windows overlap (at
    /// most ⌈K/S⌉² terms): exact forward, backward within that many roundings. Average sums at most KH·KW terms then
    /// divides, and its backward sums ⌈K/S⌉² quotients: γ_L bounds on Σ|terms|.</summary>
    [TestMethod]
    [DynamicData(nameof(Shapes))]
    public void KernelsMatchFloat64Reference(WindowPoolShape shape, KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(41);
        var x = TestData.Uniform(rng, (int)shape.InputLength);
        var dy = TestData.Uniform(rng, (int)shape.OutputLength);
        var accelerator = TestDevice.Cpu.Accelerator;
        var ops = TestDevice.For(kernels, width).Kernels.WindowPool;
        using var xDevice = KernelCheck.Upload(x);
        using var dyDevice = KernelCheck.Upload(dy);
        using var y = new DeviceTensor(accelerator, (int)shape.OutputLength);
        using var dx = KernelCheck.Upload(Enumerable.Repeat(1000f, (int)shape.InputLength).ToArray());
        using var argmax = accelerator.Allocate1D<int>(shape.OutputLength);

        const double u = KernelCheck.Float32Roundoff;
        var overlap = (double)((shape.KH + shape.SH - 1) / shape.SH * ((shape.KW + shape.SW - 1) / shape.SW));
        var (expectedMax, expectedArgmax) = WindowPoolReference.MaxForward(shape, x);
        ops.MaxForward(shape, xDevice.View, y.View, argmax.View);
        ops.MaxBackward(shape, dyDevice.View, argmax.View, dx.View);
        KernelCheck.AssertClose($"MaxPool forward {shape} {kernels}", expectedMax, y.ToArray(), _ => 0);
        CollectionAssert.AreEqual(expectedArgmax, argmax.GetAsArray1D(), $"MaxPool argmax {shape} {kernels}");
        var maxTerms = WindowPoolReference.MaxBackward(shape, Abs(dy), expectedArgmax);
        KernelCheck.AssertClose($"MaxPool backward {shape} {kernels}", WindowPoolReference.MaxBackward(shape, dy, expectedArgmax), dx.ToArray(),
            i => overlap * u * maxTerms[i]);

        ops.AverageForward(shape, xDevice.View, y.View);
        ops.AverageBackward(shape, dyDevice.View, dx.View);
        var averageTerms = WindowPoolReference.AverageForward(shape, Abs(x));
        var spreadTerms = WindowPoolReference.AverageBackward(shape, Abs(dy));
        KernelCheck.AssertClose($"AvgPool forward {shape} {kernels}", WindowPoolReference.AverageForward(shape, x), y.ToArray(),
            i => (shape.KH * shape.KW + 1) * u * averageTerms[i]);
        KernelCheck.AssertClose($"AvgPool backward {shape} {kernels}", WindowPoolReference.AverageBackward(shape, dy), dx.ToArray(),
            i => (overlap + 1) * u * spreadTerms[i]);
    }

    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void MaxPoolTiesGoToTheFirstMaximumAndNaNWins(KernelChoice kernels, VectorWidth? width)
    {
        var shape = new WindowPoolShape(1, 1, 1, 7, 1, 3, 1, 2, pw: 1, ceilMode: true);
        var accelerator = TestDevice.Cpu.Accelerator;
        using var x = KernelCheck.Upload([2, 2, 1, float.NaN, 5, 5, 5]);
        using var y = new DeviceTensor(accelerator, (int)shape.OutputLength);
        using var argmax = accelerator.Allocate1D<int>(shape.OutputLength);
        TestDevice.For(kernels, width).Kernels.WindowPool.MaxForward(shape, x.View, y.View, argmax.View);
        // Windows over padded positions [0,3), [2,5), [4,7), [6,9): inputs {0,1}, {1,2,3}, {3,4,5}, {5,6}.
        CollectionAssert.AreEqual(new[] { 0, 3, 3, 5 }, argmax.GetAsArray1D());
        Assert.IsTrue(float.IsNaN(y.ToArray()[1]));
    }

    /// <summary>Rows full of ties, signed zeros, −∞ and NaN through overlapping, padded, ceil-mode 1-D windows and a
    /// 2-D one, and four-wide windows over one and several rows (the vector search, with a partial last window): the
    /// host picks the plain kernels' winner, value bits and index alike.</summary>
    [TestMethod]
    [DataRow(VectorWidth.Bits128)]
    [DataRow(VectorWidth.Bits256)]
    [DataRow(VectorWidth.Bits512)]
    public void MaxPoolHostPicksThePlainWinnerAmongTiesZerosAndNaNs(VectorWidth width)
    {
        float[] values = [float.NegativeInfinity, -0f, 0f, 1f, 1f, 2f, float.NaN, -3f];
        var rng = new Random(17);
        foreach (var shape in new[]
                 {
                     new WindowPoolShape(3, 2, 1, 53, 1, 4, 1, 4),
                     new WindowPoolShape(2, 2, 3, 70, 1, 4, 1, 4, ceilMode: true),
                     new WindowPoolShape(2, 3, 1, 41, 1, 5, 1, 3, pw: 2, ceilMode: true),
                     new WindowPoolShape(2, 2, 5, 9, 3, 3, 2, 2, 1, 1, ceilMode: true),
                 })
        {
            var x = Enumerable.Range(0, (int)shape.InputLength).Select(_ => values[rng.Next(values.Length)]).ToArray();
            var (plainY, plainIndex) = MaxPool(TestDevice.Cpu, shape, x);
            var (hostY, hostIndex) = MaxPool(TestDevice.For(KernelChoice.Host, width), shape, x);
            CollectionAssert.AreEqual(plainIndex, hostIndex, $"argmax {shape}");
            CollectionAssert.AreEqual(plainY.Select(BitConverter.SingleToInt32Bits).ToArray(), hostY.Select(BitConverter.SingleToInt32Bits).ToArray(),
                $"output bits {shape}");
        }
    }

    private static (float[] Output, int[] Argmax) MaxPool(ComputeDevice device, WindowPoolShape shape, float[] input)
    {
        using var x = KernelCheck.Upload(input);
        using var y = new DeviceTensor(TestDevice.Cpu.Accelerator, (int)shape.OutputLength);
        using var argmax = TestDevice.Cpu.Accelerator.Allocate1D<int>(shape.OutputLength);
        device.Kernels.WindowPool.MaxForward(shape, x.View, y.View, argmax.View);
        return (y.ToArray(), argmax.GetAsArray1D());
    }

    [TestMethod]
    public void LayersReportPyTorchsOutputShapes()
    {
        (WindowPool Layer, int[] Input, int[] Output)[] cases =
        [
            (WindowPool.MaxPool1d(4), [64, 8000], [64, 2000]),
            (WindowPool.MaxPool1d(4, ceilMode: true), [256, 125], [256, 32]),
            (WindowPool.MaxPool1d(150, padding: 6), [32, 66230], [32, 441]),
            (WindowPool.MaxPool1d(8, 8), [16, 7969], [16, 996]),
            (WindowPool.AvgPool1d(32), [512, 32], [512, 1]),
            (WindowPool.MaxPool2d(3, 3, 2, 2, 1, 1, ceilMode: true), [4, 7, 9], [4, 4, 5]),
            (WindowPool.AvgPool2d(2, 2), [4, 7, 9], [4, 3, 4]),
            (WindowPool.GlobalAvgPool(), [512, 17], [512, 1]),
            (WindowPool.GlobalAvgPool(), [64, 5, 6], [64, 1, 1]),
        ];
        foreach (var (layer, input, output) in cases)
        {
            using var _ = layer;
            CollectionAssert.AreEqual(output, layer.Build(TestDevice.Cpu, input, maxBatch: 1, needsInputGradient: false),
                $"{layer.Kind} pooling of {ShapeUtil.Format(input)}");
        }
        Assert.ThrowsExactly<ArgumentException>(() => WindowPool.MaxPool1d(4, padding: 3));
        using var oneD = WindowPool.AvgPool1d(2);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => oneD.Build(TestDevice.Cpu, [2, 3, 4], 1, false)).Message, "(C,L)");
    }

    /// <summary>Central differences through each layer, batch 2 of 3. Max pooling is piecewise linear: with distinct
    /// inputs 0.01 apart and a step of 1e-3 no argmax changes, so the differences are exact but for output rounding;
    /// averages are linear.</summary>
    [TestMethod]
    public void LayerBackwardMatchesFiniteDifferences()
    {
        var rng = new Random(42);
        (Layer Layer, int[] Shape, double Step)[] cases =
        [
            (WindowPool.MaxPool1d(3, 2, padding: 1, ceilMode: true), [3, 20], 1e-3),
            (WindowPool.MaxPool2d(3, 3, 2, 2, 1, 1, ceilMode: true), [2, 5, 7], 1e-3),
            (WindowPool.AvgPool1d(4, 3, padding: 2, ceilMode: true), [3, 20], 0.5),
            (WindowPool.AvgPool2d(2, 3, 2, 2, 1, 1, ceilMode: true), [2, 5, 7], 0.5),
            (WindowPool.GlobalAvgPool(), [3, 20], 0.5),
        ];
        foreach (var (layer, shape, step) in cases)
        {
            using var _ = layer;
            layer.Build(TestDevice.Cpu, shape, maxBatch: 3, needsInputGradient: true);
            var count = 2 * (int)ShapeUtil.Elements(shape);
            var distinct = Enumerable.Range(0, count).OrderBy(_ => rng.Next()).Select(k => 0.01f * k - 1).ToArray();
            LayerGradientCheck.Check(layer, distinct, batch: 2, training: true, rng, step, absTolerance: 2e-5, relTolerance: 0);
        }
    }

    private static float[] Abs(float[] values) => values.Select(Math.Abs).ToArray();
}
