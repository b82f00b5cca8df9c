using ILGPU.Runtime;
using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using EnvNet.Network;
using EnvNet.Network.Layers;

namespace EnvNet.Tests;

[TestClass]
public sealed class DropoutTests
{
    private const int Batch = 3;
    private const int Features = 4999; // batch × features is not a multiple of 4 (one Philox block) or of a group

    private static Dropout BuildLayer(ulong seed, KernelChoice kernels = KernelChoice.Plain, VectorWidth? width = null)
    {
        var layer = new Dropout(0.5f, seed);
        layer.Build(TestDevice.For(kernels, width), [Features], Batch, needsInputGradient: true);
        return layer;
    }

    /// <summary>Inputs in [0.5, 1), so an output is zero exactly where the mask drops.</summary>
    private static DeviceTensor Input(int seed)
    {
        var tensor = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, Features);
        tensor.CopyFrom(TestData.Uniform(new Random(seed), Batch * Features, 0.5f, 1f));
        return tensor;
    }

    private static float[] Forward(Dropout layer, DeviceTensor input, bool training, ulong step) =>
        layer.Forward(input.View, new Pass(Batch, training, step)).GetAsArray();

    /// <summary>Random123's published known-answer vectors for Philox-4x32-10.</summary>
    [TestMethod]
    [DataRow(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [DataRow(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [DataRow(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void PhiloxMatchesRandom123KnownAnswers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1,
        uint x0, uint x1, uint x2, uint x3)
    {
        Assert.AreEqual(new PhiloxBlock(x0, x1, x2, x3), Philox.Generate(c0, c1, c2, c3, k0, k1));
    }

    [TestMethod]
    public void EvalIsIdentity()
    {
        using var layer = BuildLayer(seed: 1);
        using var input = Input(seed: 2);
        CollectionAssert.AreEqual(input.ToArray(), Forward(layer, input, training: false, step: 5));
    }

    /// <summary>The kernel's mask equals the host Philox mask bit for bit; about half survive, each scaled by exactly 2.
    /// With n = 14997 fair draws the kept fraction has σ = 0.5/√n ≈ 0.0041; the test allows 5σ.</summary>
    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void TrainingKeepsAboutHalfScaledByTwoWithTheHostMask(KernelChoice kernels, VectorWidth? width)
    {
        using var layer = BuildLayer(seed: 3, kernels, width);
        using var input = Input(seed: 4);
        var x = input.ToArray();
        var y = Forward(layer, input, training: true, step: 9);
        var args = new DropoutArgs(x.Length, 0.5f, 3, 9);
        var kept = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var keeps = args.Keeps(i);
            Assert.AreEqual(keeps ? 2 * x[i] : 0f, y[i], $"element {i}");
            kept += keeps ? 1 : 0;
        }
        Assert.AreEqual(0.5, kept / (double)x.Length, 5 * 0.5 / Math.Sqrt(x.Length));
    }

    [TestMethod]
    public void SameSeedAndStepGiveTheSameMaskAndOtherStepsOrSeedsOthers()
    {
        using var layer = BuildLayer(seed: 11);
        using var twin = BuildLayer(seed: 11);
        using var other = BuildLayer(seed: 12);
        using var input = Input(seed: 5);
        var reference = Forward(layer, input, training: true, step: 100);

        CollectionAssert.AreEqual(reference, Forward(twin, input, training: true, step: 100));
        CollectionAssert.AreEqual(reference, Forward(layer, input, training: true, step: 100));
        // Independent masks agree on half of the elements (σ ≈ 0.0041; 5σ allowed).
        Assert.AreEqual(0.5, Agreement(reference, Forward(layer, input, training: true, step: 101)), 0.021);
        Assert.AreEqual(0.5, Agreement(reference, Forward(other, input, training: true, step: 100)), 0.021);
        Assert.AreEqual(0.5, Agreement(reference, Forward(layer, input, training: true, step: 100 + (1UL << 32))), 0.021);
    }

    [TestMethod]
    [DataRow(KernelChoice.Plain, null)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits128)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits256)]
    [DataRow(KernelChoice.Host, VectorWidth.Bits512)]
    public void BackwardScalesTheGradientByTheForwardMask(KernelChoice kernels, VectorWidth? width)
    {
        using var layer = BuildLayer(seed: 21, kernels, width);
        using var input = Input(seed: 6);
        using var gradOutput = new DeviceTensor(TestDevice.Cpu.Accelerator, Batch, Features);
        var dy = TestData.Uniform(new Random(7), Batch * Features);
        gradOutput.CopyFrom(dy);
        var pass = new Pass(Batch, Training: true, Step: 42);

        var y = layer.Forward(input.View, pass).GetAsArray();
        var dx = layer.Backward(gradOutput.View, pass).GetAsArray();
        for (var i = 0; i < dy.Length; i++)
            Assert.AreEqual(y[i] != 0 ? 2 * dy[i] : 0f, dx[i], $"element {i}");
    }

    [TestMethod]
    public void RejectsProbabilityOutsideZeroToOne()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Dropout(1f, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Dropout(-0.1f, 0));
    }

    private static double Agreement(float[] a, float[] b) =>
        Enumerable.Range(0, a.Length).Count(i => (a[i] == 0) == (b[i] == 0)) / (double)a.Length;
}
