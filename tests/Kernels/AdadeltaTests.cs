using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class AdadeltaTests
{
    /// <summary>
    /// Six steps with fresh random gradients (every third step tiny, so eps matters) against PyTorch's formula in
    /// float64, with esc-learner's abdolinet settings (lr 0.01, weight decay 5e-4, ρ 0.9, eps 1e-6) and PyTorch's
    /// default lr 1. A step moves a parameter by lr·δ with |δ| ≤ √(acc_delta + eps)/√(square_avg + eps)·|g|, a few
    /// roundings of it: relative 1e-5 of the accumulated movement plus the parameter's own rounding. The running
    /// averages have positive terms only: a few roundings of themselves.
    /// </summary>
    [TestMethod]
    [DataRow(0.01f, 5e-4f, KernelChoice.Plain, null)]
    [DataRow(1f, 0f, KernelChoice.Plain, null)]
    [DataRow(0.01f, 5e-4f, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(0.01f, 5e-4f, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(0.01f, 5e-4f, KernelChoice.Host, VectorWidth.Bits512)]
    [DataRow(1f, 0f, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(1f, 0f, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(1f, 0f, KernelChoice.Host, VectorWidth.Bits512)]
    public void StepsMatchPyTorchFormulaInFloat64(float learningRate, float weightDecay, KernelChoice kernels, VectorWidth? width)
    {
        const float rho = 0.9f, eps = 1e-6f;
        var rng = new Random(1);
        var accelerator = TestDevice.Cpu.Accelerator;
        var weight = new Parameter(new DeviceTensor(accelerator, 3, 347), new DeviceTensor(accelerator, 3, 347));
        var bias = new Parameter(new DeviceTensor(accelerator, 3), new DeviceTensor(accelerator, 3));
        using var optimizer = new AdadeltaOptimizer(TestDevice.For(kernels, width), [("fc.weight", weight), ("fc.bias", bias)], eps);

        var expected = new List<(Parameter Parameter, double[] Value, double[] SquareAvg, double[] AccDelta, double[] Moved)>();
        foreach (var p in new[] { weight, bias })
        {
            var initial = TestData.Uniform(rng, (int)p.Value.Length);
            p.Value.CopyFrom(initial);
            var length = (int)p.Value.Length;
            expected.Add((p, initial.Select(v => (double)v).ToArray(), new double[length], new double[length], new double[length]));
        }

        for (var step = 1; step <= 6; step++)
        {
            foreach (var (p, value, squareAvg, accDelta, moved) in expected)
            {
                var scale = step % 3 == 0 ? 1e-6f : 1f;
                var gradient = TestData.Uniform(rng, (int)p.Grad.Length).Select(g => g * scale).ToArray();
                p.Grad.CopyFrom(gradient);
                var before = (double[])value.Clone();
                AdadeltaReference.Step(value, gradient, squareAvg, accDelta, learningRate, rho, eps, weightDecay);
                for (var i = 0; i < moved.Length; i++) moved[i] += Math.Abs(value[i] - before[i]);
            }
            optimizer.Step(learningRate, rho, weightDecay);
        }

        Assert.AreEqual(6L, optimizer.Steps);
        for (var j = 0; j < expected.Count; j++)
        {
            var (p, value, squareAvg, accDelta, moved) = expected[j];
            var (squareAvgState, accDeltaState) = ((TensorState)optimizer.State[3 * j], (TensorState)optimizer.State[3 * j + 1]);
            Assert.AreEqual("fc." + (j == 0 ? "weight" : "bias") + ".square_avg", squareAvgState.Name);
            KernelCheck.AssertClose($"Adadelta lr {learningRate} parameter {j} {kernels}", value, p.Value.ToArray(),
                i => 1e-5 * moved[i] + 4 * KernelCheck.Float32Roundoff * Math.Abs(value[i]) + 1e-12);
            KernelCheck.AssertClose($"Adadelta lr {learningRate} {squareAvgState.Name} {kernels}", squareAvg, squareAvgState.Tensor.ToArray(),
                i => 8 * KernelCheck.Float32Roundoff * squareAvg[i] + 1e-30);
            KernelCheck.AssertClose($"Adadelta lr {learningRate} {accDeltaState.Name} {kernels}", accDelta, accDeltaState.Tensor.ToArray(),
                i => 1e-5 * accDelta[i] + 1e-30);
        }
        foreach (var p in new[] { weight, bias }) { p.Value.Dispose(); p.Grad.Dispose(); }
    }

    [TestMethod]
    public void AbdoliNetTrainsWithEscLearnersAdadelta()
    {
        var recipe = ModelRegistry.Definition("abdolinet").Recipe;
        Assert.AreEqual((OptimizerKind.Adadelta, 0.01, 0.9, 5e-4, 150, 64),
            (recipe.Optimizer, recipe.LearningRate, recipe.Momentum, recipe.WeightDecay, recipe.Epochs, recipe.Batch));
    }
}
