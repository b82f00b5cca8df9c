using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;
using ILGPU.Runtime;

namespace EnvNet.Tests;

[TestClass]
public sealed class BatchNormTests
{
    private const float Eps = 1e-5f;
    private const float Momentum = 0.1f;

    /// <summary>Fewer values per channel than partial chunks (one value each), several per chunk with a ragged last
    /// round (2404 = 2·1024 + 356), and the same data offset by 100 (|mean| ≫ std), where Σx² − (Σx)²/M in float
    /// would lose every digit.</summary>
    public static IEnumerable<object?[]> Cases =>
        from c in new (BatchNormShape Shape, float Offset)[]
        {
            (new BatchNormShape(3, 5, 2 * 37), 0f),
            (new BatchNormShape(4, 3, 601), 0f),
            (new BatchNormShape(4, 3, 601), 100f),
        }
        from backend in TestDevice.Backends
        select new object?[] { c.Shape, c.Offset, backend.Kernels, backend.Width };

    /// <summary>
    /// Tolerances: the float32 mean is the shift K plus a Welford/Chan mean of values of size std, so its error is a
    /// rounding of |mean| plus a few dozen of std: 32u·(|mean| + 2·std) (measured ≤ 5u·that). invStd and the
    /// variances get 32u·(1 + |mean|/std) relative, the mean's error entering through x − mean; outputs
    /// 32u·(1 + |x̂| + |mean|/std)·|γ| + 2u·|β| for the same reason.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void TrainingForwardMatchesFloat64Reference(BatchNormShape shape, float offset, KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(11);
        var x = TestData.Uniform(rng, (int)shape.Length, offset - 1, offset + 1);
        var gamma = TestData.Uniform(rng, shape.C, 0.5f, 2);
        var beta = TestData.Uniform(rng, shape.C);
        var runningMean = TestData.Uniform(rng, shape.C);
        var runningVar = TestData.Uniform(rng, shape.C, 0.5f, 2);
        var ops = TestDevice.For(kernels, width).Kernels.BatchNorm;
        using var xDevice = KernelCheck.Upload(x);
        using var gammaDevice = KernelCheck.Upload(gamma);
        using var betaDevice = KernelCheck.Upload(beta);
        using var runningMeanDevice = KernelCheck.Upload(runningMean);
        using var runningVarDevice = KernelCheck.Upload(runningVar);
        using var savedMean = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var savedInvStd = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var scratch = new DeviceTensor(TestDevice.Cpu.Accelerator, BatchNormShape.ScratchLength(shape.C));
        using var y = new DeviceTensor(TestDevice.Cpu.Accelerator, (int)shape.Length);

        ops.Statistics(shape, xDevice.View, Momentum, Eps, savedMean.View, savedInvStd.View,
            runningMeanDevice.View, runningVarDevice.View, scratch.View);
        ops.Normalize(shape, xDevice.View, savedMean.View, savedInvStd.View, gammaDevice.View, betaDevice.View, y.View);

        const double u = KernelCheck.Float32Roundoff;
        var stats = BatchNormReference.BatchStatistics(shape, x, Eps);
        var std = stats.BiasedVar.Select(Math.Sqrt).ToArray();
        double Offset(int c) => Math.Abs(stats.Mean[c]) / std[c];
        var name = $"BatchNorm {shape} offset {offset} {kernels}";
        KernelCheck.AssertClose($"{name} mean", stats.Mean, savedMean.ToArray(),
            c => 32 * u * (Math.Abs(stats.Mean[c]) + 2 * std[c]));
        KernelCheck.AssertClose($"{name} invStd", stats.InvStd, savedInvStd.ToArray(),
            c => 32 * u * (1 + Offset(c)) * stats.InvStd[c]);
        var expectedRunningMean = BatchNormReference.RunningUpdate(runningMean.Select(v => (double)v).ToArray(), stats.Mean, Momentum);
        var expectedRunningVar = BatchNormReference.RunningUpdate(runningVar.Select(v => (double)v).ToArray(), stats.UnbiasedVar, Momentum);
        KernelCheck.AssertClose($"{name} running_mean", expectedRunningMean, runningMeanDevice.ToArray(),
            c => 32 * u * (Math.Abs(expectedRunningMean[c]) + Math.Abs(stats.Mean[c]) + 2 * std[c]));
        KernelCheck.AssertClose($"{name} running_var", expectedRunningVar, runningVarDevice.ToArray(),
            c => 32 * u * (1 + Offset(c)) * expectedRunningVar[c]);
        var expectedY = BatchNormReference.Normalize(shape, x, stats.Mean, stats.InvStd, gamma, beta);
        KernelCheck.AssertClose($"{name} output", expectedY, y.ToArray(), i =>
        {
            var c = (int)(i / shape.Spatial % shape.C);
            var xhat = Math.Abs((x[i] - stats.Mean[c]) * stats.InvStd[c]);
            return 32 * u * (1 + xhat + Offset(c)) * gamma[c] + 2 * u * Math.Abs(beta[c]);
        });
    }

    /// <summary>Eval mode normalises with the running statistics: y = (x − rm)/√(rv + eps)·γ + β, a handful of
    /// roundings of each operand: tolerance 8u·(|x̂|·|γ| + |β|) plus 8u·|rm|·invStd·|γ| for the subtraction.</summary>
    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void EvalForwardUsesRunningStatistics(KernelChoice kernels, VectorWidth? width)
    {
        var shape = new BatchNormShape(3, 5, 3 * 7);
        var rng = new Random(12);
        var x = TestData.Uniform(rng, (int)shape.Length, -3, 3);
        var gamma = TestData.Uniform(rng, shape.C, 0.5f, 2);
        var beta = TestData.Uniform(rng, shape.C);
        var runningMean = TestData.Uniform(rng, shape.C);
        var runningVar = TestData.Uniform(rng, shape.C, 0.1f, 3);
        var ops = TestDevice.For(kernels, width).Kernels.BatchNorm;
        using var xDevice = KernelCheck.Upload(x);
        using var gammaDevice = KernelCheck.Upload(gamma);
        using var betaDevice = KernelCheck.Upload(beta);
        using var runningMeanDevice = KernelCheck.Upload(runningMean);
        using var runningVarDevice = KernelCheck.Upload(runningVar);
        using var invStd = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var y = new DeviceTensor(TestDevice.Cpu.Accelerator, (int)shape.Length);

        ops.InvStdFromVariance(shape.C, runningVarDevice.View, Eps, invStd.View);
        ops.Normalize(shape, xDevice.View, runningMeanDevice.View, invStd.View, gammaDevice.View, betaDevice.View, y.View);

        const double u = KernelCheck.Float32Roundoff;
        KernelCheck.AssertClose("BatchNorm eval output", BatchNormReference.EvalOutput(shape, x, runningMean, runningVar, gamma, beta, Eps),
            y.ToArray(), i =>
            {
                var c = (int)(i / shape.Spatial % shape.C);
                var scale = 1 / Math.Sqrt(runningVar[c] + Eps) * gamma[c];
                return 8 * u * ((Math.Abs(x[i]) + Math.Abs(runningMean[c])) * scale + Math.Abs(beta[c]));
            });
        CollectionAssert.AreEqual(runningMean, runningMeanDevice.ToArray(), "eval leaves the running statistics alone");
    }

    /// <summary>
    /// Backward kernels against the float64 gradients (which use exact statistics). dγ and dβ are compensated sums
    /// of M terms dy·x̂ whose x̂ carries the statistics' error: tolerance 32u·(1 + |mean|/std)·Σ|terms|. dx combines
    /// three terms of size |dy|, |dβ|/M, |x̂·dγ|/M: tolerance 32u·(1 + |mean|/std)·γ·invStd·(|dy| + (|dβ| + |x̂·dγ|)/M)
    /// plus the same for Σ|terms| of dβ and dγ.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void BackwardMatchesFloat64Reference(BatchNormShape shape, float offset, KernelChoice kernels, VectorWidth? width)
    {
        var rng = new Random(13);
        var x = TestData.Uniform(rng, (int)shape.Length, offset - 1, offset + 1);
        var dy = TestData.Uniform(rng, (int)shape.Length);
        var gamma = TestData.Uniform(rng, shape.C, 0.5f, 2);
        var ops = TestDevice.For(kernels, width).Kernels.BatchNorm;
        using var xDevice = KernelCheck.Upload(x);
        using var dyDevice = KernelCheck.Upload(dy);
        using var gammaDevice = KernelCheck.Upload(gamma);
        using var runningMean = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var runningVar = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var savedMean = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var savedInvStd = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var scratch = new DeviceTensor(TestDevice.Cpu.Accelerator, BatchNormShape.ScratchLength(shape.C));
        using var dgamma = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var dbeta = new DeviceTensor(TestDevice.Cpu.Accelerator, shape.C);
        using var dx = new DeviceTensor(TestDevice.Cpu.Accelerator, (int)shape.Length);

        ops.Statistics(shape, xDevice.View, Momentum, Eps, savedMean.View, savedInvStd.View, runningMean.View, runningVar.View, scratch.View);
        ops.ParameterGradients(shape, xDevice.View, dyDevice.View, savedMean.View, savedInvStd.View, scratch.View, dgamma.View, dbeta.View);
        ops.InputGradient(shape, xDevice.View, dyDevice.View, savedMean.View, savedInvStd.View, gammaDevice.View,
            dgamma.View, dbeta.View, dx.View);

        const double u = KernelCheck.Float32Roundoff;
        var stats = BatchNormReference.BatchStatistics(shape, x, Eps);
        var (expectedDx, expectedDgamma, expectedDbeta) = BatchNormReference.Backward(shape, x, dy, gamma, Eps);
        var absDy = new double[shape.C];
        var absDyXhat = new double[shape.C];
        for (var i = 0; i < shape.Length; i++)
        {
            var c = (int)(i / shape.Spatial % shape.C);
            absDy[c] += Math.Abs(dy[i]);
            absDyXhat[c] += Math.Abs(dy[i] * (x[i] - stats.Mean[c]) * stats.InvStd[c]);
        }
        double Conditioning(int c) => 32 * u * (1 + Math.Abs(stats.Mean[c]) * stats.InvStd[c]);
        var name = $"BatchNorm backward {shape} offset {offset} {kernels}";
        KernelCheck.AssertClose($"{name} dgamma", expectedDgamma, dgamma.ToArray(), c => Conditioning(c) * (absDyXhat[c] + absDy[c]));
        KernelCheck.AssertClose($"{name} dbeta", expectedDbeta, dbeta.ToArray(), c => 4 * u * absDy[c]);
        KernelCheck.AssertClose($"{name} dx", expectedDx, dx.ToArray(), i =>
        {
            var c = (int)(i / shape.Spatial % shape.C);
            var xhat = Math.Abs((x[i] - stats.Mean[c]) * stats.InvStd[c]);
            var sums = (absDy[c] + xhat * (absDyXhat[c] + absDy[c])) / shape.Count;
            return Conditioning(c) * gamma[c] * stats.InvStd[c] * (Math.Abs(dy[i]) + sums);
        });
    }

    /// <summary>
    /// Central differences through the layer (training mode, batch 3 of 4, M = 45, non-trivial γ and β). Output is
    /// linear in γ and β, so those differences are exact; in x it is smooth with third derivatives O(1/M·σ³): the
    /// step 1e-2 leaves a truncation error below 1e-5 and float32 output noise Σ|r|·u/step ≈ 5e-5, hence 2e-4.
    /// </summary>
    [TestMethod]
    public void LayerBackwardMatchesFiniteDifferences()
    {
        var rng = new Random(14);
        using var layer = new BatchNorm2d();
        layer.Build(TestDevice.Cpu, [3, 3, 5], maxBatch: 4, needsInputGradient: true);
        layer.Weight.Value.CopyFrom(TestData.Uniform(rng, 3, 0.5f, 2));
        layer.Bias.Value.CopyFrom(TestData.Uniform(rng, 3));
        var input = TestData.Uniform(rng, 3 * 3 * 3 * 5, -2, 2);
        LayerGradientCheck.Check(layer, input, batch: 3, training: true, rng, step: 1e-2, absTolerance: 2e-4, relTolerance: 0,
            maxChecksPerTensor: 40);
    }

    [TestMethod]
    public void LayerTracksRunningStatisticsAsPyTorch()
    {
        var rng = new Random(15);
        using var layer = new BatchNorm2d();
        layer.Build(TestDevice.Cpu, [2, 3, 7], maxBatch: 3, needsInputGradient: false);
        CollectionAssert.AreEqual(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" },
            layer.StateDict().Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 1f }, layer.Weight.Value.ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 1f }, layer.RunningVar.ToArray());

        double[] runningMean = [0, 0], runningVar = [1, 1];
        foreach (var batch in new[] { 3, 2 })
        {
            var x = TestData.Uniform(rng, batch * 2 * 3 * 7, 1, 4);
            using var xDevice = KernelCheck.Upload(x);
            layer.Forward(xDevice.View, new Pass(batch, Training: true, Step: 0));
            var stats = BatchNormReference.BatchStatistics(new BatchNormShape(batch, 2, 21), x, Eps);
            runningMean = BatchNormReference.RunningUpdate(runningMean, stats.Mean, Momentum);
            runningVar = BatchNormReference.RunningUpdate(runningVar, stats.UnbiasedVar, Momentum);
        }
        // Values near 2.5 and variances near 0.75: a few float32 roundings each.
        KernelCheck.AssertClose("BatchNorm2d running_mean after 2 batches", runningMean, layer.RunningMean.ToArray(), _ => 1e-6);
        KernelCheck.AssertClose("BatchNorm2d running_var after 2 batches", runningVar, layer.RunningVar.ToArray(), _ => 1e-6);
        var counter = (CounterState)layer.StateDict().Single(e => e.Name == "num_batches_tracked");
        Assert.AreEqual(2L, counter.Get());

        using var evalInput = KernelCheck.Upload(TestData.Uniform(rng, 2 * 2 * 3 * 7));
        layer.Forward(evalInput.View, new Pass(2, Training: false, Step: 0));
        Assert.AreEqual(2L, counter.Get(), "an eval forward does not count");
        KernelCheck.AssertClose("BatchNorm2d running_mean after eval", runningMean, layer.RunningMean.ToArray(), _ => 1e-6);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() =>
            layer.Backward(evalInput.View, new Pass(2, Training: true, Step: 0)));
        StringAssert.Contains(error.Message, "training-mode Forward");
    }

    [TestMethod]
    public void TrainingWithOneValuePerChannelIsRejectedAsInPyTorch()
    {
        using var layer = new BatchNorm2d();
        layer.Build(TestDevice.Cpu, [4, 1, 1], maxBatch: 2, needsInputGradient: false);
        using var x = KernelCheck.Upload([1, 2, 3, 4]);
        var error = Assert.ThrowsExactly<ArgumentException>(() => layer.Forward(x.View, new Pass(1, Training: true, Step: 0)));
        StringAssert.Contains(error.Message, "more than one value per channel");
    }
}
