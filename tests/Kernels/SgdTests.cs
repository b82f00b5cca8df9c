using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class SgdTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// Five steps with fresh random gradients against PyTorch's formula in float64 (whose first step copies the
    /// gradient into the buffer). Each float32 step rounds a handful of operations on values of order 1–10, about
    /// 1e-6 each, and errors add over steps (the buffer's shrink by μ each step): 2e-5 absolute after five steps.
    /// </summary>
    [TestMethod]
    [DataRow(true, KernelChoice.Plain, null)]
    [DataRow(false, KernelChoice.Plain, null)]
    [DataRow(true, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(true, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(true, KernelChoice.Host, VectorWidth.Bits512)]
    [DataRow(false, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(false, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(false, KernelChoice.Host, VectorWidth.Bits512)]
    public void StepsMatchPyTorchFormulaInFloat64(bool nesterov, KernelChoice kernels, VectorWidth? width)
    {
        const float learningRate = 0.1f, momentum = 0.9f, weightDecay = 5e-4f;
        var rng = new Random(nesterov ? 1 : 2);
        var accelerator = TestDevice.Cpu.Accelerator;
        var weight = new Parameter(new DeviceTensor(accelerator, 3, 347), new DeviceTensor(accelerator, 3, 347));
        var bias = new Parameter(new DeviceTensor(accelerator, 3), new DeviceTensor(accelerator, 3));
        using var optimizer = new SgdOptimizer(TestDevice.For(kernels, width), [("fc.weight", weight), ("fc.bias", bias)], nesterov);

        var expected = new List<(Parameter Parameter, double[] Value, double[]? Buffer)>();
        foreach (var p in new[] { weight, bias })
        {
            var initial = TestData.Uniform(rng, (int)p.Value.Length);
            p.Value.CopyFrom(initial);
            expected.Add((p, initial.Select(v => (double)v).ToArray(), null));
        }

        for (var step = 0; step < 5; step++)
        {
            for (var j = 0; j < expected.Count; j++)
            {
                var (p, value, buffer) = expected[j];
                var gradient = TestData.Uniform(rng, (int)p.Grad.Length);
                p.Grad.CopyFrom(gradient);
                SgdReference.Step(value, gradient, ref buffer, learningRate, momentum, weightDecay, nesterov);
                expected[j] = (p, value, buffer);
            }
            optimizer.Step(learningRate, momentum, weightDecay);
        }

        for (var j = 0; j < expected.Count; j++)
        {
            var (p, value, buffer) = expected[j];
            var parameterStats = ErrorStats.Of(p.Value.ToArray(), value);
            var bufferStats = ErrorStats.Of(optimizer.State[j].Tensor.ToArray(), buffer);
            TestContext.WriteLine($"{optimizer.State[j].Name} (nesterov {nesterov}): parameter {parameterStats}; buffer {bufferStats}");
            Assert.IsLessThanOrEqualTo(2e-5, parameterStats.MaxAbsolute);
            Assert.IsLessThanOrEqualTo(2e-5, bufferStats.MaxAbsolute);
        }
        foreach (var p in new[] { weight, bias }) { p.Value.Dispose(); p.Grad.Dispose(); }
    }

    [TestMethod]
    public void StateNamesTheMomentumBuffersInParameterOrder()
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        var weight = new Parameter(new DeviceTensor(accelerator, 4, 2), new DeviceTensor(accelerator, 4, 2));
        var bias = new Parameter(new DeviceTensor(accelerator, 4), new DeviceTensor(accelerator, 4));
        using var optimizer = new SgdOptimizer(TestDevice.Cpu, [("fc7.weight", weight), ("fc7.bias", bias)]);
        CollectionAssert.AreEqual(new[] { "fc7.weight.momentum_buffer", "fc7.bias.momentum_buffer" },
            optimizer.State.Select(s => s.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 4, 2 }, optimizer.State[0].Shape);
        foreach (var p in new[] { weight, bias }) { p.Value.Dispose(); p.Grad.Dispose(); }
    }
}
