using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>A convolution's bias: y[n,c,·] += b[c] forward, db[c] = Σ_{n,·} dy[n,c,·] backward.</summary>
public static class ChannelBiasKernels
{
    /// <summary>y[n,c,p] += bias[c], one iteration per element.</summary>
    public static void AddBias(Index1D thread, ElementGrid grid, ChannelBiasShape s, ArrayView<float> output, ArrayView<float> bias)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            output[i] += bias[i / s.Spatial % s.C];
        }
    }

    /// <summary>gradBias[c] = Σ_{n,p} gradOutput[n,c,p], one iteration per channel; compensated, as the sum runs over a
    /// whole batch of positions.</summary>
    public static void BiasGradient(Index1D thread, ElementGrid grid, ChannelBiasShape s, ArrayView<float> gradOutput, ArrayView<float> gradBias)
    {
        for (int c = thread; c < grid.Count; c += grid.Threads)
        {
            var sum = new CompensatedSum();
            for (var n = 0; n < s.N; n++)
            {
                var row = (n * s.C + c) * s.Spatial;
                for (var p = 0; p < s.Spatial; p++) sum.Add(gradOutput[row + p]);
            }
            gradBias[c] = sum.Value;
        }
    }
}

/// <summary>The channel-bias kernels loaded once for one accelerator.</summary>
public sealed class ChannelBiasOps : IChannelBiasOps
{
    private static readonly ConditionalWeakTable<Accelerator, ChannelBiasOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, ChannelBiasShape, ArrayView<float>, ArrayView<float>> _addBias;
    private readonly Action<Index1D, ElementGrid, ChannelBiasShape, ArrayView<float>, ArrayView<float>> _biasGradient;

    private readonly Accelerator _accelerator;

    private ChannelBiasOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _addBias = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ChannelBiasShape, ArrayView<float>, ArrayView<float>>(
            ChannelBiasKernels.AddBias);
        _biasGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ChannelBiasShape, ArrayView<float>, ArrayView<float>>(
            ChannelBiasKernels.BiasGradient);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static ChannelBiasOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new ChannelBiasOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(ChannelBiasOps), ChannelBiasKernels.AddBias),
        KernelEntryPoint.AutoGrouped(nameof(ChannelBiasOps), ChannelBiasKernels.BiasGradient),
    ];

    public void AddBias(ChannelBiasShape shape, ArrayView<float> output, ArrayView<float> bias)
    {
        const string operation = "ChannelBiasOps.AddBias";
        ViewChecks.RequireIndexable(shape.Length, operation);
        ViewChecks.RequireLength(output, shape.Length, operation, nameof(output));
        ViewChecks.RequireLength(bias, shape.C, operation, nameof(bias));
        var grid = ElementGrid.For(_accelerator, shape.Length);
        if (shape.Length > 0) _addBias(grid.Threads, grid, shape, output, bias);
    }

    public void BiasGradient(ChannelBiasShape shape, ArrayView<float> gradOutput, ArrayView<float> gradBias)
    {
        const string operation = "ChannelBiasOps.BiasGradient";
        ViewChecks.RequireIndexable(shape.Length, operation);
        ViewChecks.RequireLength(gradOutput, shape.Length, operation, nameof(gradOutput));
        ViewChecks.RequireLength(gradBias, shape.C, operation, nameof(gradBias));
        var grid = ElementGrid.For(_accelerator, shape.C);
        _biasGradient(grid.Threads, grid, shape, gradOutput, gradBias);
    }
}
