using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>The axis-1/axis-2 transpose kernel loaded once for one accelerator.</summary>
public sealed class TransposeOps : ITransposeOps
{
    private static readonly ConditionalWeakTable<Accelerator, TransposeOps> Shared = new();

    private readonly Action<Index1D, ElementGrid, TransposeShape, ArrayView<float>, ArrayView<float>> _transpose;

    private readonly Accelerator _accelerator;

    public TransposeOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _transpose = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, TransposeShape, ArrayView<float>, ArrayView<float>>(PoolKernels.Transpose12);
    }

    /// <summary>One instance per accelerator, shared by every layer built on it.</summary>
    public static TransposeOps For(Accelerator accelerator) => Shared.GetValue(accelerator, a => new TransposeOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(TransposeOps), PoolKernels.Transpose12),
    ];

    /// <summary>output [N, B, A, W] = input [N, A, B, W] with axes 1 and 2 swapped. The backward of a transpose with
    /// <paramref name="shape"/> is this call with <see cref="TransposeShape.Swapped"/>.</summary>
    public void Transpose12(TransposeShape shape, ArrayView<float> input, ArrayView<float> output)
    {
        const string operation = "TransposeOps.Transpose12";
        ViewChecks.RequireIndexable(shape.Length, operation);
        ViewChecks.RequireLength(input, shape.Length, operation, nameof(input));
        ViewChecks.RequireLength(output, shape.Length, operation, nameof(output));
        var grid = ElementGrid.For(_accelerator, shape.Length);
        if (shape.Length > 0) _transpose(grid.Threads, grid, shape, input, output);
    }
}
