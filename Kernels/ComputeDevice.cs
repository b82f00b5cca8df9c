using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace EnvNet.Kernels;

/// <summary>Which ILGPU backend to run on. Auto picks CUDA, then OpenCL, then the CPU accelerator.</summary>
public enum AcceleratorChoice { Auto, Cuda, OpenCL, Cpu }

public static class AcceleratorChoiceNames
{
    /// <summary>The name people write: CUDA, OpenCL, CPU.</summary>
    public static string DisplayName(this AcceleratorChoice choice) => choice switch
    {
        AcceleratorChoice.Cuda => "CUDA",
        AcceleratorChoice.OpenCL => "OpenCL",
        AcceleratorChoice.Cpu => "CPU",
        _ => "auto",
    };
}

/// <summary>What ILGPU reports about one device, for <c>envnet devices</c>.</summary>
public sealed record DeviceDescription(AcceleratorType Type, string Name, long MemoryBytes, int WarpSize, int MaxThreadsPerGroup);

/// <summary>
/// One ILGPU context and the accelerator the run computes on. The CPU accelerator is created as a
/// simulated NVIDIA GPU (warp 32, groups of up to 1024 threads) so tiled kernels run with the same
/// group shapes in the tests as on CUDA; ILGPU's default CPU device allows only 16 threads per group.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    public Context Context { get; }
    public Accelerator Accelerator { get; }

    private ComputeDevice(Context context, Accelerator accelerator)
    {
        Context = context;
        Accelerator = accelerator;
    }

    public AcceleratorType Type => Accelerator.AcceleratorType;
    public string Name => Accelerator.Name;

    public static Context CreateContext() =>
        Context.Create(builder => builder
            .Cuda()
            .OpenCL()
            .CPU(SimulatedGpu())
            .EnableAlgorithms()
            .Math(MathMode.Default)
            .Optimize(OptimizationLevel.O2));

    public static ComputeDevice Create(AcceleratorChoice choice)
    {
        var context = CreateContext();
        try
        {
            var device = Pick(context, choice)
                ?? throw new InvalidOperationException(
                    $"No {choice.DisplayName()} device is available to ILGPU; run 'envnet devices' to see what it finds.");
            return new ComputeDevice(context, device.CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The CPU device: warp 32 and groups of up to 1024 threads like an NVIDIA GPU, with one multiprocessor per core.
    /// ILGPU's <c>CPUDeviceKind.Nvidia</c> has the same warp and group limits but a single multiprocessor, on which
    /// every launch cost about 7× more (measured on 2 cores: a 40-element launch 8 ms against 1.2 ms).
    /// <para>ILGPU 1.5.3's CPU runtime keeps, per multiprocessor, as many OS threads as the largest group ever
    /// launched on the accelerator, and every later launch passes all of them through a barrier twice: after one
    /// launch with 256-thread groups every launch costs about 20 ms, after 1024-thread groups about 170 ms (measured on
    /// 2 cores, against 1.2 ms). So nothing a CPU run launches uses groups of more than 32 threads (the tiled kernels
    /// run on CUDA only, see <see cref="KernelPreference"/>), and the tests run the tiled kernels on an accelerator of
    /// their own.</para>
    /// </summary>
    private static CPUDevice SimulatedGpu() =>
        new(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 32, numMultiprocessors: Math.Max(2, Environment.ProcessorCount));

    /// <summary>The CPU accelerator as a simulated GPU: what tests and CI use.</summary>
    public static ComputeDevice CreateCpu() => Create(AcceleratorChoice.Cpu);

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
            AcceleratorChoice.Cpu => First(AcceleratorType.CPU),
            _ => First(AcceleratorType.Cuda) ?? First(AcceleratorType.OpenCL) ?? First(AcceleratorType.CPU),
        };
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
