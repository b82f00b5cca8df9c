using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using EnvNet.Kernels.Host;
using EnvNet.Kernels.Plain;
using EnvNet.Kernels.Tiled;

namespace EnvNet.Kernels;

/// <summary>Which device to run on. Auto picks CUDA, then OpenCL, then the CPU. <see cref="Cpu"/> runs the CPU host
/// kernels (<see cref="HostKernelBackend"/>); <see cref="IlgpuCpu"/> runs ILGPU's kernels on its CPU accelerator, a
/// simulated GPU (slow: for testing the GPU kernels without a GPU).</summary>
public enum AcceleratorChoice { Auto, Cuda, OpenCL, Cpu, IlgpuCpu }

/// <summary>Which kernels run on the chosen device: its best (<see cref="Best"/>, see
/// <see cref="ComputeDevice.BestKernels"/>), the plain ILGPU kernels (<see cref="KernelBackend"/>; the "before" figures
/// of <c>envnet bench --plain-kernels</c>), the tiled ILGPU kernels (<see cref="TiledKernelBackend"/>; also for tests of
/// the GPU kernels on the ILGPU CPU accelerator) or the CPU host kernels (<see cref="HostKernelBackend"/>, CPU only).</summary>
public enum KernelChoice { Best, Plain, Tiled, Host }

/// <summary>What ILGPU reports about one device, for <c>envnet devices</c>.</summary>
public sealed record DeviceDescription(AcceleratorType Type, string Name, long MemoryBytes, int WarpSize, int MaxThreadsPerGroup);

/// <summary>
/// One ILGPU context, the accelerator the run computes on and allocates on, and the kernels that run there
/// (<see cref="Kernels"/>, the strategy layers take their kernels from). The CPU accelerator is created as a
/// simulated NVIDIA GPU (warp 32, groups of up to 1024 threads) so tiled kernels run with the same
/// group shapes in the tests as on CUDA; ILGPU's default CPU device allows only 16 threads per group.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private readonly bool _ownsAccelerator;

    public Context Context { get; }
    public Accelerator Accelerator { get; }

    /// <summary>The kernels layers get at Build: picked once, here, with the accelerator.</summary>
    public KernelBackend Kernels { get; }

    private ComputeDevice(Context context, Accelerator accelerator, KernelBackend kernels, bool ownsAccelerator)
    {
        Context = context;
        Accelerator = accelerator;
        Kernels = kernels;
        _ownsAccelerator = ownsAccelerator;
    }

    public AcceleratorType Type => Accelerator.AcceleratorType;
    public string Name => Accelerator.Name;

    /// <summary>The device and its kernels in words, for the run log and <c>envnet bench</c>.</summary>
    public string Description => $"{Type} {Name}, {Kernels.Name}";

    public static Context CreateContext() =>
        Context.Create(builder => CompilerSettings(builder
            .Cuda()
            .OpenCL()
            .CPU(SimulatedGpu())));

    /// <summary>How every context compiles kernels (ILGPU.Algorithms, default math, O2); the tests that compile the
    /// kernels to PTX without a GPU use the same settings.</summary>
    public static Context.Builder CompilerSettings(Context.Builder builder) =>
        builder.EnableAlgorithms().Math(MathMode.Default).Optimize(OptimizationLevel.O2);

    /// <param name="width">The host kernels' vector width; null: <see cref="VectorUnit.Chosen"/>.</param>
    public static ComputeDevice Create(AcceleratorChoice choice, KernelChoice kernels = KernelChoice.Best, VectorWidth? width = null)
    {
        var context = CreateContext();
        Accelerator? accelerator = null;
        try
        {
            var device = Pick(context, choice)
                ?? throw new InvalidOperationException(
                    $"No {choice.DisplayName()} device is available to ILGPU; run 'envnet devices' to see what it finds.");
            accelerator = device.CreateAccelerator(context);
            return new ComputeDevice(context, accelerator, Backend(accelerator, choice, kernels, width), ownsAccelerator: true);
        }
        catch
        {
            accelerator?.Dispose();
            context.Dispose();
            throw;
        }
    }

    /// <summary>The same accelerator with other kernels, e.g. to compare two backends on the same buffers; disposing
    /// it leaves the accelerator to this device.</summary>
    public ComputeDevice WithKernels(KernelChoice kernels, VectorWidth? width = null) =>
        new(Context, Accelerator, Backend(Accelerator, AcceleratorChoice.IlgpuCpu, kernels, width), ownsAccelerator: false);

    /// <summary>The kernels a device of <paramref name="type"/> runs by default: tiled on CUDA, plain on OpenCL (see
    /// <see cref="TiledKernelBackend"/>) and on the ILGPU CPU accelerator, host code for <see cref="AcceleratorChoice.Cpu"/>
    /// (and for auto without a GPU).</summary>
    public static KernelChoice BestKernels(AcceleratorType type, AcceleratorChoice choice) => type switch
    {
        AcceleratorType.Cuda => KernelChoice.Tiled,
        AcceleratorType.CPU when choice != AcceleratorChoice.IlgpuCpu => KernelChoice.Host,
        _ => KernelChoice.Plain,
    };

    private static KernelBackend Backend(Accelerator accelerator, AcceleratorChoice choice, KernelChoice kernels, VectorWidth? width) =>
        (kernels == KernelChoice.Best ? BestKernels(accelerator.AcceleratorType, choice) : kernels) switch
        {
            KernelChoice.Tiled => new TiledKernelBackend(accelerator),
            KernelChoice.Host when accelerator.AcceleratorType == AcceleratorType.CPU => HostKernelBackend.Create(accelerator, width),
            KernelChoice.Host => throw new NotSupportedException($"The host kernels run on the CPU only, not on {accelerator.AcceleratorType}."),
            _ => new KernelBackend(accelerator),
        };

    /// <summary>
    /// The CPU device: warp 32 and groups of up to 1024 threads like an NVIDIA GPU, with one multiprocessor per core.
    /// ILGPU's <c>CPUDeviceKind.Nvidia</c> has the same warp and group limits but a single multiprocessor, on which
    /// every launch costs several times more.
    /// <para>ILGPU 1.5.3's CPU runtime keeps, per multiprocessor, as many OS threads as the largest group ever
    /// launched on the accelerator, and every later launch passes all of them through a barrier twice, so one launch
    /// with large groups makes every later launch slow (figures in docs/performance.md, "ILGPU CPU accelerator").
    /// So nothing a CPU run launches uses groups of more than 32 threads (the tiled kernels
    /// are CUDA's default only, see <see cref="KernelChoice"/>), and the tests run the tiled kernels on an accelerator of
    /// their own.</para>
    /// </summary>
    private static CPUDevice SimulatedGpu() =>
        new(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 32, numMultiprocessors: Math.Max(2, Environment.ProcessorCount));

    public static IReadOnlyList<DeviceDescription> ListDevices()
    {
        using var context = CreateContext();
        return context.Devices
            .Select(d => new DeviceDescription(d.AcceleratorType, d.Name, d.MemorySize, d.WarpSize, d.MaxNumThreadsPerGroup))
            .ToList();
    }

    private static Device? Pick(Context context, AcceleratorChoice choice)
    {
        Device? First(AcceleratorType type) => context.Devices.FirstOrDefault(d => d.AcceleratorType == type);
        return choice switch
        {
            AcceleratorChoice.Cuda => First(AcceleratorType.Cuda),
            AcceleratorChoice.OpenCL => First(AcceleratorType.OpenCL),
            AcceleratorChoice.Cpu or AcceleratorChoice.IlgpuCpu => First(AcceleratorType.CPU),
            _ => First(AcceleratorType.Cuda) ?? First(AcceleratorType.OpenCL) ?? First(AcceleratorType.CPU),
        };
    }

    public void Dispose()
    {
        if (!_ownsAccelerator) return;
        Accelerator.Dispose();
        Context.Dispose();
    }
}
