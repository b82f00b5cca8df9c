using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>MaxPool2d, ReLU, Transpose12 and Flatten. Every value these kernels write is a copy of an input value or
/// zero, so they must match the float64 references exactly (tolerance 0).</summary>
[TestClass]
public sealed class PoolAndActivationTests
{
    /// <summary>EnvNet's pool3 (3×3) with floor-mode leftovers on both axes, a 1×8 pool over an odd width, and pool2's
    /// 1×160 windows (whole vectors and a ragged tail on the host).</summary>
    public static IEnumerable<object?[]> PoolShapes =>
        from shape in new[] { new MaxPool2dShape(2, 3, 7, 37, 3, 3), new MaxPool2dShape(2, 5, 1, 53, 1, 8), new MaxPool2dShape(2, 3, 1, 500, 1, 165) }
        from backend in TestDevice.Backends
        select new object?[] { shape, backend.Kernels, backend.Width };

    [TestMethod]
    [DynamicData(nameof(PoolShapes))]
    public void MaxPoolKernelsMatchFloat64Reference(MaxPool2dShape shape, KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(21);
        CheckMaxPool(shape, TestData.Uniform(rng, (int)shape.InputLength), rng, $"MaxPool2d {shape} {kernels}", kernels, width);
    }

    /// <summary>Values from {0, 1, 2} tie in nearly every window: the first maximum in row-major order must win, in
    /// both the index and the routed gradient, as in PyTorch.</summary>
    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void MaxPoolTiesGoToTheFirstMaximum(KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(22);
        foreach (var shape in new[] { new MaxPool2dShape(2, 3, 6, 13, 2, 3), new MaxPool2dShape(1, 2, 1, 340, 1, 160) })
        {
            var x = Enumerable.Range(0, (int)shape.InputLength).Select(_ => (float)rng.Next(3)).ToArray();
            CheckMaxPool(shape, x, rng, $"MaxPool2d ties {shape} {kernels}", kernels, width);
        }

        // A window of equal values picks its top-left element.
        var flat = new MaxPool2dShape(1, 1, 2, 2, 2, 2);
        var (_, argmax) = RunMaxPool(flat, [5, 5, 5, 5], [1], kernels, width);
        Assert.AreEqual(0, argmax[0]);
    }

    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void MaxPoolPropagatesNaNAsPyTorch(KernelChoice kernels, VectorWidth? width)
    {
        var (output, argmax) = RunMaxPool(new MaxPool2dShape(1, 1, 1, 4, 1, 4), [1, float.NaN, 3, 2], [1], kernels, width);
        Assert.IsTrue(float.IsNaN(output[0]));
        Assert.AreEqual(1, argmax[0]);
        var wide = Enumerable.Range(0, 40).Select(i => (float)i).ToArray();
        wide[21] = float.NaN;
        (output, argmax) = RunMaxPool(new MaxPool2dShape(1, 1, 1, 40, 1, 40), wide, [1], kernels, width);
        Assert.IsTrue(float.IsNaN(output[0]));
        Assert.AreEqual(21, argmax[0]);
    }

    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void ReluKernelsMatchFloat64Reference(KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(23);
        // Exact zeros included: PyTorch's gradient there is 0.
        var x = TestData.Uniform(rng, 1001).Select((v, i) => i % 7 == 0 ? 0f : v).ToArray();
        var dy = TestData.Uniform(rng, x.Length);
        var ops = TestDevice.For(kernels, width).Kernels.Activation;
        using var xDevice = KernelCheck.Upload(x);
        using var dyDevice = KernelCheck.Upload(dy);
        using var y = new DeviceTensor(TestDevice.Cpu.Accelerator, x.Length);
        using var dx = new DeviceTensor(TestDevice.Cpu.Accelerator, x.Length);
        ops.ReluForward(x.Length, xDevice.View, y.View);
        ops.ReluBackward(x.Length, y.View, dyDevice.View, dx.View);
        var output = y.ToArray();
        KernelCheck.AssertClose("ReLU forward", ActivationReference.ReluForward(x), output, _ => 0);
        KernelCheck.AssertClose("ReLU backward", ActivationReference.ReluBackward(output, dy), dx.ToArray(), _ => 0);

        using var nan = KernelCheck.Upload([float.NaN, -1]);
        ops.ReluForward(2, nan.View, y.View);
        Assert.IsTrue(float.IsNaN(y.ToArray()[0]), "ReLU keeps NaN as PyTorch does");
    }

    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void TransposeAndItsBackwardMatchFloat64Reference(KernelChoice kernels, VectorWidth? width)
    {
        var shape = new TransposeShape(2, 5, 3, 37);
        var rng = new Random(24);
        var x = TestData.Uniform(rng, (int)shape.Length);
        var ops = TestDevice.For(kernels, width).Kernels.Transpose;
        using var xDevice = KernelCheck.Upload(x);
        using var y = new DeviceTensor(TestDevice.Cpu.Accelerator, x.Length);
        using var back = new DeviceTensor(TestDevice.Cpu.Accelerator, x.Length);
        ops.Transpose12(shape, xDevice.View, y.View);
        ops.Transpose12(shape.Swapped, y.View, back.View);
        KernelCheck.AssertClose("Transpose12", PoolReference.Transpose12(shape, x), y.ToArray(), _ => 0);
        KernelCheck.AssertClose("Transpose12 backward", x.Select(v => (double)v).ToArray(), back.ToArray(), _ => 0);
    }

    /// <summary>
    /// Central differences through each layer, batch 2 of 3. All four are piecewise linear, so away from kinks the
    /// differences are exact up to float64 summation of the loss (≈1e-15): inputs stay ≥ 0.05 from ReLU's kink
    /// (step 1e-2) and max-pool inputs are distinct multiples of 0.01 (step 1e-3 cannot reorder a window).
    /// Tolerance 1e-6.
    /// </summary>
    [TestMethod]
    public void LayerBackwardsMatchFiniteDifferences()
    {
        var rng = new Random(25);
        int[] shape = [3, 4, 11];
        var count = 2 * 3 * 4 * 11;
        var awayFromZero = TestData.Uniform(rng, count, 0.05f, 1).Select(v => rng.Next(2) == 0 ? v : -v).ToArray();
        var distinct = Enumerable.Range(0, count).OrderBy(_ => rng.Next()).Select(k => 0.01f * k - 1).ToArray();
        (Layer Layer, float[] Input, double Step)[] cases =
        [
            (new ReLU(), awayFromZero, 1e-2),
            (new MaxPool2d(2, 3), distinct, 1e-3),
            (new Transpose12(), TestData.Uniform(rng, count), 0.5),
            (new Flatten(), TestData.Uniform(rng, count), 0.5),
        ];
        foreach (var (layer, input, step) in cases)
        {
            using var _ = layer;
            layer.Build(TestDevice.Cpu, shape, maxBatch: 3, needsInputGradient: true);
            LayerGradientCheck.Check(layer, input, batch: 2, training: true, rng, step, absTolerance: 1e-6, relTolerance: 0,
                maxChecksPerTensor: 60);
        }
    }

    [TestMethod]
    public void LayersReportPyTorchsOutputShapes()
    {
        var device = TestDevice.Cpu;
        using var pool = new MaxPool2d(1, 160);
        CollectionAssert.AreEqual(new[] { 40, 1, 150 }, pool.Build(device, [40, 1, 24000 + 159], 1, true));
        using var transpose = new Transpose12();
        CollectionAssert.AreEqual(new[] { 1, 40, 150 }, transpose.Build(device, [40, 1, 150], 1, true));
        using var flatten = new Flatten();
        CollectionAssert.AreEqual(new[] { 50 * 11 * 14 }, flatten.Build(device, [50, 11, 14], 1, true));
    }

    [TestMethod]
    public void FlattenHandsOnTheSameBufferWithoutCopying()
    {
        using var layer = new Flatten();
        layer.Build(TestDevice.Cpu, [2, 3, 5], maxBatch: 4, needsInputGradient: true);
        using var x = KernelCheck.Upload(new float[4 * 30]);
        var pass = new Pass(3, Training: true, Step: 0);
        var y = layer.Forward(x.View, pass);
        var g = layer.Backward(x.View, pass);
        Assert.AreEqual(90, y.Length);
        Assert.AreEqual(90, g.Length);

        // Written after the passes, the values show through both views: they alias the input.
        var values = Enumerable.Range(0, 4 * 30).Select(i => (float)i).ToArray();
        x.CopyFrom(values);
        var seen = new float[90];
        y.CopyToCPU(seen);
        CollectionAssert.AreEqual(values[..90], seen);
        g.CopyToCPU(seen);
        CollectionAssert.AreEqual(values[..90], seen);
    }

    private static void CheckMaxPool(MaxPool2dShape shape, float[] x, Random rng, string what, KernelChoice kernels, VectorWidth? width)
    {
        var dy = TestData.Uniform(rng, (int)shape.OutputLength);
        var (expectedOutput, expectedArgmax) = PoolReference.MaxPoolForward(shape, x);
        var ops = TestDevice.For(kernels, width).Kernels.Pool;
        using var xDevice = KernelCheck.Upload(x);
        using var dyDevice = KernelCheck.Upload(dy);
        using var y = new DeviceTensor(TestDevice.Cpu.Accelerator, (int)shape.OutputLength);
        using var argmax = TestDevice.Cpu.Accelerator.Allocate1D<int>(shape.OutputLength);
        using var dx = KernelCheck.Upload(Enumerable.Repeat(7f, (int)shape.InputLength).ToArray());
        ops.MaxPoolForward(shape, xDevice.View, y.View, argmax.View);
        ops.MaxPoolBackward(shape, dyDevice.View, argmax.View, dx.View);
        KernelCheck.AssertClose($"{what} forward", expectedOutput, y.ToArray(), _ => 0);
        CollectionAssert.AreEqual(expectedArgmax, argmax.GetAsArray1D(), $"{what} argmax");
        KernelCheck.AssertClose($"{what} backward (overwrites, zero off the argmax)",
            PoolReference.MaxPoolBackward(shape, dy, expectedArgmax), dx.ToArray(), _ => 0);
    }

    private static (float[] Output, int[] Argmax) RunMaxPool(MaxPool2dShape shape, float[] x, int[] outputShape, KernelChoice kernels, VectorWidth? width)
    {
        using var xDevice = KernelCheck.Upload(x);
        using var y = new DeviceTensor(TestDevice.Cpu.Accelerator, outputShape);
        using var argmax = TestDevice.Cpu.Accelerator.Allocate1D<int>(shape.OutputLength);
        TestDevice.For(kernels, width).Kernels.Pool.MaxPoolForward(shape, xDevice.View, y.View, argmax.View);
        return (y.ToArray(), argmax.GetAsArray1D());
    }
}
