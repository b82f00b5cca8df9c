using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using ILGPU.Runtime;
using EnvNet.Network;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class LossTests
{
    public TestContext TestContext { get; set; } = null!;

    private static float[] OneHot(Random rng, int rows, int classes)
    {
        var targets = new float[rows * classes];
        for (var r = 0; r < rows; r++) targets[r * classes + rng.Next(classes)] = 1;
        return targets;
    }

    /// <summary>Between-class mixes r·onehot(a) + (1 − r)·onehot(b) (zeros elsewhere, so 0·log 0 is exercised), one
    /// 0.5/0.5 tie (argmax must take the first index) and one dense random distribution.</summary>
    private static float[] SoftTargets(Random rng, int rows, int classes)
    {
        var targets = new float[rows * classes];
        for (var r = 0; r < rows - 2; r++)
        {
            var ratio = (float)rng.NextDouble();
            targets[r * classes + rng.Next(classes)] += ratio;
            targets[r * classes + rng.Next(classes)] += 1 - ratio;
        }
        targets[(rows - 2) * classes + 3] = 0.5f;
        targets[(rows - 2) * classes + 1] = 0.5f;
        var dense = TestData.Uniform(rng, classes, 0, 1);
        var sum = dense.Sum();
        for (var c = 0; c < classes; c++) targets[(rows - 1) * classes + c] = dense[c] / sum;
        return targets;
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
        return best;
    }

    /// <summary>
    /// Row losses within 1e-5·(1 + loss): float32 log-sum-exp over ≤ 77 terms rounds to a few units in 1e-7 of
    /// logits of magnitude ≤ 5, and the loss adds ≤ 77 such terms. Classes 10 (fewer than the kernel's 32 threads),
    /// 50 and 77 (one and two full strides plus a partial one) cover every thread's share of a row. Gradients within 1e-6/rows: p = exp(log p) carries
    /// a relative error of about |log p|·u ≤ 1e-6 on values ≤ 1, divided by rows like the gradient itself.
    /// </summary>
    [TestMethod]
    [DataRow(6, 50, false)]
    [DataRow(5, 10, false)]
    [DataRow(7, 50, true)]
    [DataRow(9, 10, true)]
    [DataRow(3, 77, true)]
    [DataRow(6, 50, false, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(6, 50, false, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(6, 50, false, KernelChoice.Host, VectorWidth.Bits512)]
    [DataRow(7, 50, true, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(7, 50, true, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(7, 50, true, KernelChoice.Host, VectorWidth.Bits512)]
    [DataRow(3, 77, true, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(3, 77, true, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(3, 77, true, KernelChoice.Host, VectorWidth.Bits512)]
    public void MatchesFloat64Reference(int rows, int classes, bool softTargets, KernelChoice kernels = KernelChoice.Plain, VectorWidth? width = null)
    {
        var rng = new Random(rows * 100 + classes);
        var logits = TestData.Uniform(rng, rows * classes, -5, 5);
        var targets = softTargets ? SoftTargets(rng, rows, classes) : OneHot(rng, rows, classes);
        var accelerator = TestDevice.Cpu.Accelerator;
        using var loss = new SoftmaxKlLoss(TestDevice.For(kernels, width), classes, maxBatch: rows + 3);
        using var deviceLogits = new DeviceTensor(accelerator, rows, classes);
        using var deviceTargets = new DeviceTensor(accelerator, rows, classes);
        deviceLogits.CopyFrom(logits);
        deviceTargets.CopyFrom(targets);

        var mean = loss.Compute(deviceLogits.View, deviceTargets.View, rows);

        var (expectedLosses, expectedGrad) = LossReference.SoftmaxKl(
            logits.Select(v => (double)v).ToArray(), targets.Select(v => (double)v).ToArray(), rows, classes);
        var lossStats = ErrorStats.Of(loss.RowLosses.ToArray(), expectedLosses);
        var gradStats = ErrorStats.Of(loss.Gradient.GetAsArray(), expectedGrad);
        TestContext.WriteLine($"rows {rows}, classes {classes}, soft {softTargets}: row losses {lossStats}; gradient {gradStats}");
        for (var r = 0; r < rows; r++)
            Assert.AreEqual(expectedLosses[r], loss.RowLosses[r], 1e-5 * (1 + expectedLosses[r]), $"row {r}");
        Assert.AreEqual(expectedLosses.Average(), mean, 1e-5 * (1 + expectedLosses.Average()));
        Assert.IsLessThanOrEqualTo(1e-6 / rows, gradStats.MaxAbsolute);

        var correct = Enumerable.Range(0, rows)
            .Count(r => ArgMax(logits.AsSpan(r * classes, classes)) == ArgMax(targets.AsSpan(r * classes, classes)));
        Assert.AreEqual(correct, loss.Correct);
    }

    [TestMethod]
    public void CountsTheRowsWhoseLargestLogitIsTheTarget()
    {
        const int classes = 4;
        float[] logits = [5, 1, 0, 0, /**/ 0, 0, 2, 0, /**/ 1, 1, 1, 1];
        float[] targets = [1, 0, 0, 0, /**/ 0, 1, 0, 0, /**/ 0.5f, 0, 0, 0.5f]; // hit, miss, tie → first index: hit
        var accelerator = TestDevice.Cpu.Accelerator;
        using var loss = new SoftmaxKlLoss(TestDevice.Cpu, classes, maxBatch: 3);
        using var deviceLogits = new DeviceTensor(accelerator, 3, classes);
        using var deviceTargets = new DeviceTensor(accelerator, 3, classes);
        deviceLogits.CopyFrom(logits);
        deviceTargets.CopyFrom(targets);
        loss.Compute(deviceLogits.View, deviceTargets.View, 3);
        Assert.AreEqual(2, loss.Correct);
    }

    /// <summary>
    /// Central differences of the float32 loss against the kernel's gradient, on soft targets. Rows are independent,
    /// so one pass perturbs one logit in every row and reads each row's loss; d(mean)/dz = d(row loss)/dz / rows.
    /// Step h = 1e-2: the truncation error h²/6·|∂³ℓ| is below 2e-5, and the float32 rounding of a row loss (about
    /// 1e-6) becomes 1e-6/(2h) = 5e-5 after dividing; both shrink by 1/rows. Tolerance 2e-4/rows against derivatives
    /// of order 1/rows.
    /// </summary>
    [TestMethod]
    public void GradientMatchesFiniteDifferences()
    {
        const int rows = 7, classes = 50;
        const float step = 1e-2f;
        var rng = new Random(8);
        var logits = TestData.Uniform(rng, rows * classes, -3, 3);
        var accelerator = TestDevice.Cpu.Accelerator;
        using var loss = new SoftmaxKlLoss(TestDevice.Cpu, classes, rows);
        using var deviceLogits = new DeviceTensor(accelerator, rows, classes);
        using var targets = new DeviceTensor(accelerator, rows, classes);
        deviceLogits.CopyFrom(logits);
        targets.CopyFrom(SoftTargets(rng, rows, classes));
        loss.Compute(deviceLogits.View, targets.View, rows);
        var gradient = loss.Gradient.GetAsArray();

        float[] RowLosses(int[] entries, float delta)
        {
            var shifted = (float[])logits.Clone();
            foreach (var i in entries) shifted[i] += delta;
            deviceLogits.CopyFrom(shifted);
            loss.Compute(deviceLogits.View, targets.View, rows);
            return loss.RowLosses.ToArray();
        }

        var maxError = 0.0;
        for (var round = 0; round < 4; round++)
        {
            var entries = Enumerable.Range(0, rows).Select(r => r * classes + rng.Next(classes)).ToArray();
            var plus = RowLosses(entries, step);
            var minus = RowLosses(entries, -step);
            for (var r = 0; r < rows; r++)
            {
                var numeric = ((double)plus[r] - minus[r]) / (2 * (double)step) / rows;
                maxError = Math.Max(maxError, Math.Abs(numeric - gradient[entries[r]]));
                Assert.AreEqual(numeric, gradient[entries[r]], 2e-4 / rows, $"logit {entries[r]}");
            }
        }
        TestContext.WriteLine($"max |finite difference − gradient| {maxError:E2} over {4 * rows} logits");
    }
}
