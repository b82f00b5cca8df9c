using EnvNet.Kernels;

namespace EnvNet.Tests;

/// <summary>One CPU accelerator (a simulated GPU) shared by the whole test assembly: creating a context and loading
/// kernels is the slow part of a kernel test, so it happens once; disposed when the assembly's tests end.</summary>
[TestClass]
public static class TestDevice
{
    private static readonly Lazy<ComputeDevice> Device = new(ComputeDevice.CreateCpu);

    public static ComputeDevice Cpu => Device.Value;

    /// <summary>MSTest allows one assembly cleanup: it also deletes the shared <see cref="TinyTrainingRun"/>.</summary>
    [AssemblyCleanup]
    public static void DisposeDevice()
    {
        if (Device.IsValueCreated) Device.Value.Dispose();
        TinyTrainingRun.Delete();
    }
}
