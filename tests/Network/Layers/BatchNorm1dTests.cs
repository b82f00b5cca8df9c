using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Network.Layers;
using EnvNet.Tests.References;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>BatchNorm1d runs BatchNorm2d's kernels on (C,1,L); these tests check the layer's statistics run over the
/// batch and the length as PyTorch's BatchNorm1d does, against the float64 reference with Spatial = L.</summary>
[TestClass]
public sealed class BatchNorm1dTests
{
    private const float Eps = 1e-5f;
    private const float Momentum = 0.1f;

    /// <summary>A training forward of (C,L) samples, then an eval forward: outputs against the reference with
    /// BatchNormTests' tolerances (offset-free data), running statistics moved with the unbiased variance, the
    /// counter, and PyTorch's state_dict names.</summary>
    [TestMethod]
    public void TrainingAndEvalForwardMatchFloat64Reference()
    {
        var rng = new Random(31);
        using var layer = new BatchNorm1d();
        CollectionAssert.AreEqual(new[] { 4, 23 }, layer.Build(TestDevice.Cpu, [4, 23], maxBatch: 3, needsInputGradient: false));
        CollectionAssert.AreEqual(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" },
            layer.StateDict().Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 4 }, layer.Weight.Shape);
        var gamma = TestData.Uniform(rng, 4, 0.5f, 2);
        var beta = TestData.Uniform(rng, 4);
        layer.Weight.Value.CopyFrom(gamma);
        layer.Bias.Value.CopyFrom(beta);

        var shape = new BatchNormShape(3, 4, 23);
        var x = TestData.Uniform(rng, (int)shape.Length, -2, 3);
        using var xDevice = KernelCheck.Upload(x);
        var y = ToArray(layer.Forward(xDevice.View, new Pass(3, Training: true, Step: 0)));

        const double u = KernelCheck.Float32Roundoff;
        var stats = BatchNormReference.BatchStatistics(shape, x, Eps);
        KernelCheck.AssertClose("BatchNorm1d training output", BatchNormReference.Normalize(shape, x, stats.Mean, stats.InvStd, gamma, beta), y, i =>
        {
            var c = (int)(i / shape.Spatial % shape.C);
            return 32 * u * (1 + Math.Abs((x[i] - stats.Mean[c]) * stats.InvStd[c])) * gamma[c] + 2 * u * Math.Abs(beta[c]);
        });
        var runningMean = BatchNormReference.RunningUpdate([0, 0, 0, 0], stats.Mean, Momentum);
        var runningVar = BatchNormReference.RunningUpdate([1, 1, 1, 1], stats.UnbiasedVar, Momentum);
        KernelCheck.AssertClose("BatchNorm1d running_mean", runningMean, layer.RunningMean.ToArray(), _ => 1e-6);
        KernelCheck.AssertClose("BatchNorm1d running_var", runningVar, layer.RunningVar.ToArray(), _ => 1e-6);
        Assert.AreEqual(1L, layer.NumBatchesTracked);

        var evalShape = new BatchNormShape(2, 4, 23);
        var evalX = TestData.Uniform(rng, (int)evalShape.Length, -2, 3);
        using var evalDevice = KernelCheck.Upload(evalX);
        var evalY = ToArray(layer.Forward(evalDevice.View, new Pass(2, Training: false, Step: 0)));
        var (evalMean, evalVar) = (layer.RunningMean.ToArray(), layer.RunningVar.ToArray());
        KernelCheck.AssertClose("BatchNorm1d eval output",
            BatchNormReference.EvalOutput(evalShape, evalX, evalMean, evalVar, gamma, beta, Eps), evalY, i =>
            {
                var c = (int)(i / evalShape.Spatial % evalShape.C);
                var scale = gamma[c] / Math.Sqrt(evalVar[c] + Eps);
                return 8 * u * ((Math.Abs(evalX[i]) + Math.Abs(evalMean[c])) * scale + Math.Abs(beta[c]));
            });
        Assert.AreEqual(1L, layer.NumBatchesTracked, "an eval forward does not count");
    }

    /// <summary>Central differences in training mode for (C,L) samples and for (C) vectors (statistics over the batch
    /// only), with BatchNormTests' step and tolerance.</summary>
    [TestMethod]
    public void LayerBackwardMatchesFiniteDifferences()
    {
        var rng = new Random(32);
        foreach (var (shape, batch) in new[] { (new[] { 3, 7 }, 3), (new[] { 5 }, 6) })
        {
            using var layer = new BatchNorm1d();
            layer.Build(TestDevice.Cpu, shape, maxBatch: batch + 1, needsInputGradient: true);
            layer.Weight.Value.CopyFrom(TestData.Uniform(rng, shape[0], 0.5f, 2));
            layer.Bias.Value.CopyFrom(TestData.Uniform(rng, shape[0]));
            var input = TestData.Uniform(rng, batch * (int)ShapeUtil.Elements(shape), -2, 2);
            LayerGradientCheck.Check(layer, input, batch, training: true, rng, step: 1e-2, absTolerance: 2e-4, relTolerance: 0,
                maxChecksPerTensor: 40);
        }
    }

    [TestMethod]
    public void BuildRejectsAnImage()
    {
        using var layer = new BatchNorm1d();
        var error = Assert.ThrowsExactly<ArgumentException>(() => layer.Build(TestDevice.Cpu, [2, 3, 4], maxBatch: 1, needsInputGradient: false));
        StringAssert.Contains(error.Message, "(C,L) or (C)");
    }

    private static float[] ToArray(ArrayView<float> view)
    {
        var values = new float[view.Length];
        view.CopyToCPU(values);
        return values;
    }
}
