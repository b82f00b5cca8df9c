using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

[TestClass]
public sealed class AdamTests
{
    /// <summary>
    /// Six steps with fresh random gradients (every third step tiny, so eps and the moments' memory matter) against
    /// PyTorch's formula in float64, with esc-learner's wavemxnet settings (lr 1e-3, weight decay 1e-4) and a large
    /// rate. A step moves a parameter by at most a few lr, rounded to a few u of that plus the parameter's own
    /// rounding: 1e-6 absolute per 1e-3 of lr over six steps. The moments are averages of terms of both signs, so
    /// their error is a few roundings of the average of the magnitudes: 8u·(β-weighted Σ|g|) for exp_avg and
    /// 8u·exp_avg_sq (all its terms are positive).
    /// </summary>
    [TestMethod]
    [DataRow(1e-3f, 1e-4f, KernelChoice.Plain, null)]
    [DataRow(0.1f, 0f, KernelChoice.Plain, null)]
    [DataRow(1e-3f, 1e-4f, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(1e-3f, 1e-4f, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(1e-3f, 1e-4f, KernelChoice.Host, VectorWidth.Bits512)]
    [DataRow(0.1f, 0f, KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(0.1f, 0f, KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(0.1f, 0f, KernelChoice.Host, VectorWidth.Bits512)]
    public void StepsMatchPyTorchFormulaInFloat64(float learningRate, float weightDecay, KernelChoice kernels, VectorWidth? width)
    {
        const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
        var rng = new Random(1);
        var accelerator = TestDevice.Cpu.Accelerator;
        var weight = new Parameter(new DeviceTensor(accelerator, 3, 347), new DeviceTensor(accelerator, 3, 347));
        var bias = new Parameter(new DeviceTensor(accelerator, 3), new DeviceTensor(accelerator, 3));
        using var optimizer = new AdamOptimizer(TestDevice.For(kernels, width), [("fc.weight", weight), ("fc.bias", bias)], beta2, eps);

        var expected = new List<(Parameter Parameter, double[] Value, double[] ExpAvg, double[] ExpAvgSq, double[] ExpAvgMagnitude)>();
        foreach (var p in new[] { weight, bias })
        {
            var initial = TestData.Uniform(rng, (int)p.Value.Length);
            p.Value.CopyFrom(initial);
            var length = (int)p.Value.Length;
            expected.Add((p, initial.Select(v => (double)v).ToArray(), new double[length], new double[length], new double[length]));
        }

        for (var step = 1; step <= 6; step++)
        {
            foreach (var (p, value, expAvg, expAvgSq, magnitude) in expected)
            {
                var scale = step % 3 == 0 ? 1e-6f : 1f;
                var gradient = TestData.Uniform(rng, (int)p.Grad.Length).Select(g => g * scale).ToArray();
                p.Grad.CopyFrom(gradient);
                for (var i = 0; i < magnitude.Length; i++)
                    magnitude[i] = beta1 * magnitude[i] + (1 - beta1) * (Math.Abs(gradient[i]) + weightDecay * Math.Abs(value[i]));
                AdamReference.Step(value, gradient, expAvg, expAvgSq, step, learningRate, beta1, beta2, eps, weightDecay);
            }
            optimizer.Step(learningRate, beta1, weightDecay);
        }

        Assert.AreEqual(6L, optimizer.Steps);
        var tolerance = 1e-6 * Math.Max(1, learningRate / 1e-3);
        for (var j = 0; j < expected.Count; j++)
        {
            var (p, value, expAvg, expAvgSq, magnitude) = expected[j];
            var (expAvgState, expAvgSqState) = ((TensorState)optimizer.State[3 * j], (TensorState)optimizer.State[3 * j + 1]);
            KernelCheck.AssertClose($"Adam lr {learningRate} parameter {j} {kernels}", value, p.Value.ToArray(), _ => tolerance);
            KernelCheck.AssertClose($"Adam lr {learningRate} {expAvgState.Name} {kernels}", expAvg, expAvgState.Tensor.ToArray(),
                i => 8 * KernelCheck.Float32Roundoff * magnitude[i]);
            KernelCheck.AssertClose($"Adam lr {learningRate} {expAvgSqState.Name} {kernels}", expAvgSq, expAvgSqState.Tensor.ToArray(),
                i => 8 * KernelCheck.Float32Roundoff * expAvgSq[i]);
        }
        foreach (var p in new[] { weight, bias }) { p.Value.Dispose(); p.Grad.Dispose(); }
    }

    /// <summary>The host step does the kernel's operations in the kernel's order (1000 values: vector body and scalar
    /// tail), so the plain kernel and the host step at every width give the same bits.</summary>
    [TestMethod]
    public void HostStepEqualsThePlainKernelBitForBit()
    {
        var rng = new Random(2);
        var (p, g, m) = (TestData.Uniform(rng, 1000), TestData.Uniform(rng, 1000), TestData.Uniform(rng, 1000));
        var v = TestData.Uniform(rng, 1000).Select(Math.Abs).ToArray();
        var args = new AdamArgs(1e-3f / (1 - 0.9f * 0.9f), 0.9f, 0.999f, 1e-8f, 1e-4f, MathF.Sqrt(1 - 0.999f * 0.999f));
        var results = TestDevice.Backends.Select(backend =>
        {
            using var pd = KernelCheck.Upload(p);
            using var gd = KernelCheck.Upload(g);
            using var md = KernelCheck.Upload(m);
            using var vd = KernelCheck.Upload(v);
            TestDevice.For(backend.Kernels, backend.Width).Kernels.Adam.Step(pd.View, gd.View, md.View, vd.View, args);
            return (Backend: backend, P: pd.ToArray(), M: md.ToArray(), V: vd.ToArray());
        }).ToArray();
        foreach (var host in results.Skip(1))
        {
            CollectionAssert.AreEqual(results[0].P, host.P, $"parameter, {host.Backend}");
            CollectionAssert.AreEqual(results[0].M, host.M, $"exp_avg, {host.Backend}");
            CollectionAssert.AreEqual(results[0].V, host.V, $"exp_avg_sq, {host.Backend}");
        }
    }

    [TestMethod]
    public void StateNamesFollowPyTorchAndTheStepCounterRoundTrips()
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        var weight = new Parameter(new DeviceTensor(accelerator, 4, 2), new DeviceTensor(accelerator, 4, 2));
        var bias = new Parameter(new DeviceTensor(accelerator, 4), new DeviceTensor(accelerator, 4));
        using var optimizer = new AdamOptimizer(TestDevice.Cpu, [("fc.weight", weight), ("fc.bias", bias)]);
        IOptimizer asInterface = optimizer;
        CollectionAssert.AreEqual(
            new[] { "fc.weight.exp_avg", "fc.weight.exp_avg_sq", "fc.weight.step", "fc.bias.exp_avg", "fc.bias.exp_avg_sq", "fc.bias.step" },
            asInterface.State.Select(s => s.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 4, 2 }, optimizer.State[1].Shape);

        asInterface.Step(1e-3f, 0.9f, 0);
        var counter = (CounterState)optimizer.State[5];
        Assert.AreEqual(1L, counter.Get());
        counter.Set(41);
        Assert.AreEqual(41L, optimizer.Steps, "a resumed run continues its bias corrections from the restored step");
        foreach (var p in new[] { weight, bias }) { p.Value.Dispose(); p.Grad.Dispose(); }
    }

    [TestMethod]
    public void SgdIsAnOptimizerWithItsMomentumBuffersAsState()
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        var weight = new Parameter(new DeviceTensor(accelerator, 3), new DeviceTensor(accelerator, 3));
        using IOptimizer optimizer = new SgdOptimizer(TestDevice.Cpu, [("w", weight)]);
        CollectionAssert.AreEqual(new[] { "w.momentum_buffer" }, optimizer.State.Select(s => s.Name).ToArray());
        weight.Value.Dispose();
        weight.Grad.Dispose();
    }
}
