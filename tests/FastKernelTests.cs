using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Tests.References;

namespace EnvNet.Tests;

/// <summary>
/// The tiled convolution kernels against the float64 definition, on shapes that divide none of the tiles, with the
/// group shapes they use on a GPU (the CPU accelerator simulates warps of 32 and groups of up to 1024 threads).
/// </summary>
[TestClass]
public sealed class FastKernelTests
{
    /// <summary>EnvNet's row convolutions at reduced size (conv2: 40 channels over two shared-memory chunks), v2's
    /// strided first convolutions, a 2-D kernel with padding (conv3's kind), more than 64 output channels (two channel
    /// tiles), a one-column image, and a stride whose last input columns no window reads.</summary>
    public static IEnumerable<object[]> Shapes =>
    [
        [new Conv2dShape(2, 40, 1, 77, 40, 1, 8)],
        [new Conv2dShape(3, 1, 1, 301, 11, 1, 8)],
        [new Conv2dShape(2, 1, 1, 201, 6, 1, 16, sw: 2)],
        [new Conv2dShape(2, 3, 1, 95, 9, 1, 7, sw: 3, pw: 2)],
        [new Conv2dShape(2, 2, 9, 23, 5, 4, 5, ph: 1, pw: 2)],
        [new Conv2dShape(2, 1, 12, 30, 13, 8, 13)],
        [new Conv2dShape(1, 3, 2, 40, 70, 1, 3)],
        [new Conv2dShape(2, 4, 3, 1, 9, 2, 1)],
        [new Conv2dShape(2, 5, 1, 64, 16, 1, 16, sw: 2)],
    ];

    /// <summary>
    /// Tolerances as <see cref="Conv2dTests"/>: forward and input gradient sum L ≤ Cin·KH·KW (resp. Cout·KH·KW) products in
    /// plain float, |error| ≤ L·u·Σ|terms|. The weight gradient sums each thread's share of a chunk in plain float (at most
    /// ChunkLength terms per accumulator) and the chunks with compensation: |error| ≤ (ChunkLength + 4)·u·Σ|terms|.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(Shapes))]
    public void TiledConvolutionMatchesFloat64Reference(Conv2dShape shape)
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        var ops = TiledConvOps.For(accelerator);
        // Few target groups: the weight gradient then splits each sample into several chunks of several lanes.
        var plan = ops.Plan(shape, targetBlocks: 3) ?? throw new AssertFailedException($"no tiled plan for {shape}");
        var rng = new Random(11);
        var x = TestData.Uniform(rng, (int)shape.InputLength);
        var w = TestData.Uniform(rng, (int)shape.WeightLength);
        var dy = TestData.Uniform(rng, (int)shape.OutputLength);
        using var xDevice = KernelCheck.Upload(x);
        using var wDevice = KernelCheck.Upload(w);
        using var dyDevice = KernelCheck.Upload(dy);
        using var y = Poisoned((int)shape.OutputLength);
        using var dx = Poisoned((int)shape.InputLength);
        using var dw = Poisoned((int)shape.WeightLength);
        using var rearranged = new DeviceTensor(accelerator, (int)shape.WeightLength);
        using var partial = new DeviceTensor(accelerator, (int)plan.PartialLength);

        ops.Forward(plan, shape.N, xDevice.View, wDevice.View, y.View, default);
        ops.BackwardInput(plan, shape.N, dyDevice.View, wDevice.View, rearranged.View, dx.View);
        ops.BackwardWeight(plan, shape.N, xDevice.View, dyDevice.View, partial.View, dw.View);

        const double u = KernelCheck.Float32Roundoff;
        var (absX, absW, absDy) = (Abs(x), Abs(w), Abs(dy));
        var forwardTerms = Conv2dReference.Forward(shape, absX, absW);
        var inputTerms = Conv2dReference.BackwardInput(shape, absDy, absW);
        var weightTerms = Conv2dReference.BackwardWeight(shape, absX, absDy);
        double forwardL = shape.Cin * shape.KH * shape.KW, inputL = shape.Cout * shape.KH * shape.KW;
        double weightL = plan.WeightGradient.ChunkLength + 4;
        KernelCheck.AssertClose($"Tiled forward {shape}", Conv2dReference.Forward(shape, x, w), y.ToArray(),
            i => forwardL * u * forwardTerms[i]);
        KernelCheck.AssertClose($"Tiled input gradient {shape}", Conv2dReference.BackwardInput(shape, dy, w), dx.ToArray(),
            i => inputL * u * inputTerms[i]);
        KernelCheck.AssertClose($"Tiled weight gradient {shape}", Conv2dReference.BackwardWeight(shape, x, dy), dw.ToArray(),
            i => weightL * u * weightTerms[i]);
    }

    private static DeviceTensor Poisoned(int length) => KernelCheck.Upload(Enumerable.Repeat(float.NaN, length).ToArray());

    private static float[] Abs(float[] values) => values.Select(Math.Abs).ToArray();
}
