using EnvNet.Kernels;

namespace EnvNet.Tests;

/// <summary>ILGPU CPU accelerators (simulated GPUs) shared by the whole test assembly: creating a context and loading
/// kernels is the slow part of a kernel test, so it happens once; disposed when the assembly's tests end.</summary>
[TestClass]
public static class TestDevice
{
    private static readonly Lazy<ComputeDevice> Device = new(() => ComputeDevice.Create(AcceleratorChoice.IlgpuCpu));
    private static readonly Lazy<ComputeDevice> TiledDevice = new(() => ComputeDevice.Create(AcceleratorChoice.IlgpuCpu, KernelChoice.Tiled));
    private static readonly Lazy<ComputeDevice> HostDevice = new(() => Device.Value.WithKernels(KernelChoice.Host));

    /// <summary>The plain ILGPU kernels (groups of at most 32 threads): the kernels every backend falls back to.</summary>
    public static ComputeDevice Cpu => Device.Value;

    /// <summary>The tiled kernels with their GPU group shapes (up to 1024 threads). Kept apart from
    /// <see cref="Cpu"/> because on ILGPU's CPU accelerator one launch with large groups slows every later launch on
    /// that accelerator (see <see cref="ComputeDevice"/>).</summary>
    public static ComputeDevice Tiled => TiledDevice.Value;

    /// <summary>The CPU backend (<c>--accelerator cpu</c>): host kernels over the buffers of <see cref="Cpu"/>'s
    /// accelerator, so a test uploads once and runs both backends on the same buffers.</summary>
    public static ComputeDevice Host => HostDevice.Value;

    /// <summary>"plain" (<see cref="Cpu"/>) or "host" (<see cref="Host"/>), for tests that run on both backends.</summary>
    public static ComputeDevice ByKernels(string kernels) => kernels switch
    {
        "plain" => Cpu,
        "host" => Host,
        _ => throw new ArgumentException($"Unknown test kernels '{kernels}'."),
    };

    /// <summary>MSTest allows one assembly cleanup: it also deletes the shared <see cref="TinyTrainingRun"/>.</summary>
    [AssemblyCleanup]
    public static void DisposeDevice()
    {
        if (Device.IsValueCreated) Device.Value.Dispose();
        if (TiledDevice.IsValueCreated) TiledDevice.Value.Dispose();
        TinyTrainingRun.Delete();
    }
}
