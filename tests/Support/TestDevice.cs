using EnvNet.Kernels;
using EnvNet.Kernels.Host;

namespace EnvNet.Tests;

/// <summary>ILGPU CPU accelerators (simulated GPUs) shared by the whole test assembly: creating a context and loading
/// kernels is the slow part of a kernel test, so it happens once; disposed when the assembly's tests end.</summary>
[TestClass]
public static class TestDevice
{
    private static readonly Lazy<ComputeDevice> Device = new(() => ComputeDevice.Create(AcceleratorChoice.IlgpuCpu));
    private static readonly Lazy<ComputeDevice> TiledDevice = new(() => ComputeDevice.Create(AcceleratorChoice.IlgpuCpu, KernelChoice.Tiled));
    private static readonly Lazy<ComputeDevice> HostDevice = new(() => Device.Value.WithKernels(KernelChoice.Host));
    private static readonly Dictionary<VectorWidth, Lazy<ComputeDevice>> HostDevices = Enum.GetValues<VectorWidth>()
        .ToDictionary(width => width, width => new Lazy<ComputeDevice>(() => Device.Value.WithKernels(KernelChoice.Host, width)));

    /// <summary>The plain ILGPU kernels (groups of at most 32 threads): the kernels every backend falls back to.</summary>
    public static ComputeDevice Cpu => Device.Value;

    /// <summary>The tiled kernels with their GPU group shapes (up to 1024 threads). Kept apart from
    /// <see cref="Cpu"/> because on ILGPU's CPU accelerator one launch with large groups slows every later launch on
    /// that accelerator (see <see cref="ComputeDevice"/>).</summary>
    public static ComputeDevice Tiled => TiledDevice.Value;

    /// <summary>The CPU backend (<c>--accelerator cpu</c>): host kernels over the buffers of <see cref="Cpu"/>'s
    /// accelerator, so a test uploads once and runs both backends on the same buffers.</summary>
    public static ComputeDevice Host => HostDevice.Value;

    /// <summary>The backends a kernel test runs on: the plain kernels, and the host kernels at every vector width
    /// whatever this CPU has (a width it lacks runs in .NET's software fallback, so every path is tested on any
    /// machine).</summary>
    public static IEnumerable<(KernelChoice Kernels, VectorWidth? Width)> Backends =>
        new (KernelChoice, VectorWidth?)[] { (KernelChoice.Plain, null) }
            .Concat(Enum.GetValues<VectorWidth>().Select(width => (KernelChoice.Host, (VectorWidth?)width)));

    /// <summary>The plain kernels (<see cref="Cpu"/>), or the host kernels at <paramref name="width"/> (null: the
    /// width this CPU runs, <see cref="Host"/>), over the buffers of <see cref="Cpu"/>'s accelerator.</summary>
    public static ComputeDevice For(KernelChoice kernels, VectorWidth? width = null) => kernels switch
    {
        KernelChoice.Plain => Cpu,
        KernelChoice.Host when width is { } w => HostDevices[w].Value,
        KernelChoice.Host => Host,
        _ => throw new ArgumentException($"Kernel tests run the plain or the host kernels, not {kernels}."),
    };

    /// <summary>Floats per vector at <paramref name="width"/>, for rounding bounds that depend on how sums are split
    /// over lanes.</summary>
    public static int Lanes(VectorWidth width) => (int)width / 32;

    /// <summary>MSTest allows one assembly cleanup: it also deletes the shared <see cref="TinyTrainingRun"/>.</summary>
    [AssemblyCleanup]
    public static void DisposeDevice()
    {
        if (Device.IsValueCreated) Device.Value.Dispose();
        if (TiledDevice.IsValueCreated) TiledDevice.Value.Dispose();
        TinyTrainingRun.Delete();
    }
}
