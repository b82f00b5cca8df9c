using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// The bias parts of a fully connected layer Y = X·Wᵀ + b (the products are <see cref="GemmKernels"/>):
/// adding b to every row of Y, and db = Σ_rows dY.
/// </summary>
public static class LinearKernels
{
    /// <summary>y[r, f] += bias[f]; one iteration per element of y (rows × features).</summary>
    public static void AddBias(Index1D thread, ElementGrid grid, ArrayView<float> y, ArrayView<float> bias, int features)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            y[i] += bias[i % features];
        }
    }

    /// <summary>gradBias[f] = Σ_r gradOutput[r, f] in row order; one iteration per feature, so neighbouring threads
    /// read neighbouring floats of each row. Plain, not grouped: on the CPU accelerator one launch with groups of more
    /// than 32 threads makes every later launch of the process slower (see <see cref="ComputeDevice"/>).</summary>
    public static void BiasGradient(Index1D thread, ElementGrid grid, ArrayView<float> gradOutput, ArrayView<float> gradBias,
        int rows)
    {
        for (int f = thread; f < grid.Count; f += grid.Threads)
        {
            var sum = 0f;
            for (var r = 0; r < rows; r++) sum += gradOutput[r * grid.Count + f];
            gradBias[f] = sum;
        }
    }
}

/// <summary>The bias kernels loaded once for an accelerator.</summary>
public sealed class LinearOps
{
    private static readonly ConditionalWeakTable<Accelerator, LinearOps> Loaded = new();

    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, int> _addBias;
    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, int> _biasGradient;

    private readonly Accelerator _accelerator;

    private LinearOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _addBias = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, int>(
            LinearKernels.AddBias);
        _biasGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, int>(
            LinearKernels.BiasGradient);
    }

    public static LinearOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new LinearOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(LinearOps), LinearKernels.AddBias),
        KernelEntryPoint.AutoGrouped(nameof(LinearOps), LinearKernels.BiasGradient),
    ];

    /// <summary>y[r, f] += bias[f] for the first <paramref name="rows"/> rows of y.</summary>
    public void AddBias(ArrayView<float> y, ArrayView<float> bias, int rows, int features)
    {
        Check(y, bias, rows, features, "output");
        var grid = ElementGrid.For(_accelerator, (long)rows * features);
        _addBias(grid.Threads, grid, y, bias, features);
    }

    /// <summary>gradBias[f] = Σ_r gradOutput[r, f], overwriting gradBias.</summary>
    public void BiasGradient(ArrayView<float> gradOutput, ArrayView<float> gradBias, int rows, int features)
    {
        Check(gradOutput, gradBias, rows, features, "output gradient");
        var grid = ElementGrid.For(_accelerator, features);
        _biasGradient(grid.Threads, grid, gradOutput, gradBias, rows);
    }

    private static void Check(ArrayView<float> matrix, ArrayView<float> bias, int rows, int features, string name)
    {
        if (rows <= 0 || features <= 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"Bias kernels need positive sizes, got {rows} rows × {features} features.");
        if (matrix.Length < (long)rows * features || (long)rows * features > int.MaxValue)
            throw new ArgumentException($"The {name} holds {matrix.Length} elements; {rows} rows × {features} features needed (below 2^31).");
        if (bias.Length < features)
            throw new ArgumentException($"The bias holds {bias.Length} elements; {features} needed.");
    }
}
