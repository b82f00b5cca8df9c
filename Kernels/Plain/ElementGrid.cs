using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// The launch of a one-output-per-iteration kernel: <see cref="Count"/> outputs computed by <see cref="Threads"/>
/// threads, thread t taking outputs t, t + Threads, t + 2·Threads, … (a grid-stride loop).
/// On a GPU every output gets its own thread (Threads = Count). ILGPU's CPU accelerator pays a fixed cost per simulated
/// thread before any work (figures in docs/performance.md, "ILGPU CPU accelerator"), so there a few threads per core
/// each loop over many outputs.
/// </summary>
public readonly struct ElementGrid
{
    /// <summary>Threads per core on the CPU accelerator: enough to balance uneven outputs, few enough to be cheap.</summary>
    public const int CpuThreadsPerCore = 64;

    public readonly int Count;
    public readonly int Threads;

    private ElementGrid(int count, int threads) => (Count, Threads) = (count, threads);

    public static ElementGrid For(Accelerator accelerator, long count)
    {
        if (count < 0 || count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(count), $"An element grid covers 0 to 2^31-1 outputs, not {count}.");
        var threads = accelerator.AcceleratorType == AcceleratorType.CPU
            ? Math.Min(count, CpuThreadsPerCore * Math.Max(1, accelerator.NumMultiprocessors))
            : count;
        return new ElementGrid((int)count, (int)threads);
    }
}
