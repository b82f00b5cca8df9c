using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// The bias parts of a fully connected layer Y = X·Wᵀ + b (the products are <see cref="GemmKernels"/>):
/// adding b to every row of Y, and db = Σ_rows dY.
/// </summary>
public static class LinearKernels
{
    /// <summary>Columns per bias-gradient group: a warp reads 32 consecutive floats of a row.</summary>
    public const int BiasColumnsPerGroup = 32;

    /// <summary>Row lanes per bias-gradient group: each sums every 8th row, then the 8 partial sums are added
    /// in shared memory.</summary>
    public const int BiasRowLanes = 8;

    /// <summary>y[r, f] += bias[f]; one iteration per element of y (rows × features).</summary>
    public static void AddBias(Index1D thread, ElementGrid grid, ArrayView<float> y, ArrayView<float> bias, int features)
    {
        for (int i = thread; i < grid.Count; i += grid.Threads)
        {
            y[i] += bias[i % features];
        }
    }

    /// <summary>
    /// gradBias[f] = Σ_r gradOutput[r, f]. Explicitly grouped: group (32, 8), grid (⌈features/32⌉). Thread (x, y)
    /// of a group sums rows y, y+8, … of column 32·group + x, so reads stay coalesced along the row.
    /// </summary>
    public static void BiasGradient(ArrayView<float> gradOutput, ArrayView<float> gradBias, int rows, int features)
    {
        var partial = SharedMemory.Allocate<float>(BiasColumnsPerGroup * BiasRowLanes);
        var lane = Group.IdxY;
        var column = Grid.IdxX * BiasColumnsPerGroup + Group.IdxX;

        var sum = 0f;
        if (column < features)
            for (var r = lane; r < rows; r += BiasRowLanes)
                sum += gradOutput[r * features + column];
        partial[lane * BiasColumnsPerGroup + Group.IdxX] = sum;

        for (var half = BiasRowLanes / 2; half > 0; half /= 2)
        {
            Group.Barrier();
            if (lane < half)
                partial[lane * BiasColumnsPerGroup + Group.IdxX] += partial[(lane + half) * BiasColumnsPerGroup + Group.IdxX];
        }
        if (lane == 0 && column < features) gradBias[column] = partial[Group.IdxX];
    }
}

/// <summary>The bias kernels loaded once for an accelerator.</summary>
public sealed class LinearOps
{
    private static readonly ConditionalWeakTable<Accelerator, LinearOps> Loaded = new();

    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, int> _addBias;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> _biasGradient;

    private readonly Accelerator _accelerator;

    private LinearOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _addBias = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, int>(
            LinearKernels.AddBias);
        _biasGradient = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(
            LinearKernels.BiasGradient);
    }

    public static LinearOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new LinearOps(a));

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
        var groups = (features + LinearKernels.BiasColumnsPerGroup - 1) / LinearKernels.BiasColumnsPerGroup;
        var group = new Index2D(LinearKernels.BiasColumnsPerGroup, LinearKernels.BiasRowLanes);
        _biasGradient(new KernelConfig(new Index2D(groups, 1), group), gradOutput, gradBias, rows, features);
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
