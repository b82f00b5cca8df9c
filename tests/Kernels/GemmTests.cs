using EnvNet.Kernels;
using EnvNet.Kernels.Plain;
using EnvNet.Network;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class GemmTests
{
    /// <summary>Unit roundoff of float32.</summary>
    private const double Roundoff = 1.0 / (1 << 24);

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Sizes that are multiples of no tile (64×64×16) or group, in the three forms a Linear layer uses:
    /// forward X·Wᵀ, input gradient dY·W, weight gradient dYᵀ·X.</summary>
    public static IEnumerable<object[]> Products()
    {
        int[][] sizes = [[1, 1, 1], [7, 13, 5], [65, 130, 77], [129, 33, 257]];
        (bool A, bool B)[] forms = [(false, true), (false, false), (true, false)];
        foreach (var s in sizes)
            foreach (var (transposeA, transposeB) in forms)
                yield return [s[0], s[1], s[2], transposeA, transposeB];
    }

    [TestMethod]
    [DynamicData(nameof(Products))]
    public void TiledMatchesFloat64ReferenceAndNaiveKernel(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var rng = new Random(m * 1000003 + n * 1009 + k);
        var a = TestData.Uniform(rng, m * k);
        var b = TestData.Uniform(rng, k * n);
        var shape = new GemmShape(m, n, k, transposeA, transposeB);

        var accelerator = TestDevice.Tiled.Accelerator;
        var gemm = GemmOps.For(accelerator);
        using var deviceA = new DeviceTensor(accelerator, m * k);
        using var deviceB = new DeviceTensor(accelerator, k * n);
        using var tiledC = new DeviceTensor(accelerator, m * n);
        using var naiveC = new DeviceTensor(accelerator, m * n);
        deviceA.CopyFrom(a);
        deviceB.CopyFrom(b);
        tiledC.CopyFrom(Enumerable.Repeat(float.NaN, m * n).ToArray()); // every output must be written
        gemm.Multiply(deviceA.View, deviceB.View, tiledC.View, shape);
        gemm.MultiplyNaive(deviceA.View, deviceB.View, naiveC.View, shape);
        var tiled = tiledC.ToArray();
        var naive = naiveC.ToArray();

        var expected = GemmReference.Multiply(a, b, m, n, k, transposeA, transposeB);
        var scale = GemmReference.AbsoluteProducts(a, b, m, n, k, transposeA, transposeB);
        // Higham's bound for a float32 dot product of k terms, whatever the order of summation:
        // |fl(Σ aᵢbᵢ) − Σ aᵢbᵢ| ≤ γ_k Σ|aᵢbᵢ| with γ_k = k·u/(1 − k·u). It holds per element and is rigorous,
        // while a wrong index or a missed tile gives errors of order one.
        var gamma = k * Roundoff / (1 - k * Roundoff);
        for (var i = 0; i < m * n; i++)
        {
            Assert.IsLessThanOrEqualTo(gamma * scale[i], Math.Abs(tiled[i] - expected[i]), $"{shape}: C[{i / n},{i % n}]");
            // Both kernels add the products in increasing k with separate multiply and add (the CPU backend does
            // not contract them), so they must agree exactly.
            Assert.AreEqual(naive[i], tiled[i], $"{shape}: tiled and naive differ at C[{i / n},{i % n}]");
        }
        TestContext.WriteLine($"{shape}: {ErrorStats.Of(tiled, expected)}");
    }

    /// <summary>K split into several slices (a few target blocks force it on these small shapes; K is a multiple of no
    /// split depth, so the last slice is short), bias added in the reduction, scratch poisoned with NaN so an unwritten
    /// slice fails. Tolerance: each slice and the sum of slices are float32 sums in a fixed order, k + splits terms in
    /// all per element: |error| ≤ γ_(k+splits+1)·(Σ|aᵢbᵢ| + |bias|). Two runs must agree bit for bit (no atomics).</summary>
    [TestMethod]
    [DataRow(1, 50, 700, false, true)]
    [DataRow(7, 130, 257, false, true)]
    [DataRow(65, 33, 300, false, false)]
    [DataRow(3, 70, 129, false, false)]
    public void SplitKMatchesFloat64ReferenceAndIsDeterministic(int m, int n, int k, bool transposeA, bool transposeB)
    {
        var rng = new Random(m * 7919 + n * 31 + k);
        var a = TestData.Uniform(rng, m * k);
        var b = TestData.Uniform(rng, k * n);
        var bias = TestData.Uniform(rng, n);
        var shape = new GemmShape(m, n, k, transposeA, transposeB);
        var accelerator = TestDevice.Tiled.Accelerator;
        var gemm = GemmOps.For(accelerator);
        var split = gemm.PlanSplit(shape, targetBlocks: 8);
        Assert.IsGreaterThan(1, split.Splits, $"{shape}: the test needs a split, got {split}");

        using var deviceA = KernelCheck.UploadTo(TestDevice.Tiled, a);
        using var deviceB = KernelCheck.UploadTo(TestDevice.Tiled, b);
        using var deviceBias = KernelCheck.UploadTo(TestDevice.Tiled, bias);
        using var scratch = KernelCheck.UploadTo(TestDevice.Tiled, Enumerable.Repeat(float.NaN, (int)split.ScratchLength(shape)).ToArray());
        using var c = KernelCheck.UploadTo(TestDevice.Tiled, Enumerable.Repeat(float.NaN, m * n).ToArray());
        gemm.Multiply(deviceA.View, deviceB.View, c.View, shape, split, scratch.View, deviceBias.View);
        var first = c.ToArray();
        c.CopyFrom(Enumerable.Repeat(float.NaN, m * n).ToArray());
        gemm.Multiply(deviceA.View, deviceB.View, c.View, shape, split, scratch.View, deviceBias.View);
        CollectionAssert.AreEqual(first, c.ToArray(), $"{shape} {split}: two runs differ");

        var expected = GemmReference.Multiply(a, b, m, n, k, transposeA, transposeB);
        var scale = GemmReference.AbsoluteProducts(a, b, m, n, k, transposeA, transposeB);
        var terms = k + split.Splits + 1;
        var gamma = terms * Roundoff / (1 - terms * Roundoff);
        for (var i = 0; i < m * n; i++)
        {
            var exact = expected[i] + bias[i % n];
            Assert.IsLessThanOrEqualTo(gamma * (scale[i] + Math.Abs(bias[i % n])), Math.Abs(first[i] - exact),
                $"{shape} {split}: C[{i / n},{i % n}]");
        }
        TestContext.WriteLine($"{shape} {split}: {ErrorStats.Of(first, expected.Select((v, i) => v + bias[i % n]).ToArray())}");
    }

    /// <summary>The splits EnvNet's fully connected layers get at batch 64 on a 132-multiprocessor GPU (target 528 blocks):
    /// every split covers K in whole 32-deep steps, and the weight gradient (K = batch) is not split.</summary>
    [TestMethod]
    [DataRow(64, 4096, 7700, 9, 864)]   // fc5 forward
    [DataRow(64, 4096, 4096, 9, 480)]   // fc6 forward
    [DataRow(64, 50, 4096, 64, 64)]     // fc7 forward: one block of C, K in 64 slices
    [DataRow(64, 7700, 4096, 5, 832)]   // fc5 input gradient
    [DataRow(4096, 7700, 64, 1, 64)]    // fc5 weight gradient
    public void PlanSplitFillsTheGpuForBatchRows(int m, int n, int k, int splits, int kPerSplit)
    {
        var split = GemmOps.For(TestDevice.Tiled.Accelerator).PlanSplit(new GemmShape(m, n, k, false, false), targetBlocks: 528);
        Assert.AreEqual(new GemmSplit(splits, kPerSplit), split);
    }

    [TestMethod]
    public void RejectsViewsShorterThanTheShape()
    {
        var accelerator = TestDevice.Tiled.Accelerator;
        using var small = new DeviceTensor(accelerator, 6);
        using var large = new DeviceTensor(accelerator, 12);
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            GemmOps.For(accelerator).Multiply(small.View, large.View, large.View, new GemmShape(3, 4, 3, false, false)));
        StringAssert.Contains(error.Message, "matrix A holds 6 elements, 9 needed");
    }
}
