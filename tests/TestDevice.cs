using EnvNet.Kernels;

namespace EnvNet.Tests;

/// <summary>One CPU accelerator (a simulated GPU: warp 32, groups up to 1024) for the whole test assembly,
/// created on first use so that kernels compile once per test run.</summary>
public static class TestDevice
{
    private static readonly Lazy<ComputeDevice> Device = new(ComputeDevice.CreateCpu);

    public static ComputeDevice Cpu => Device.Value;
}
