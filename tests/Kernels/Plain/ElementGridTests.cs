using EnvNet.Kernels;
using EnvNet.Kernels.Plain;

namespace EnvNet.Tests;

/// <summary>The launch shape of the plain kernels on the CPU accelerator: few threads, each looping over outputs.
/// (On CUDA and OpenCL Threads = Count; the kernels' own tests cover counts below and above the CPU thread count.)</summary>
[TestClass]
public sealed class ElementGridTests
{
    [TestMethod]
    public void OnTheCpuThreadsAreCappedPerCoreAndNeverExceedTheOutputs()
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        var cap = ElementGrid.CpuThreadsPerCore * accelerator.NumMultiprocessors;

        var large = ElementGrid.For(accelerator, 1_000_000);
        Assert.AreEqual((1_000_000, cap), (large.Count, large.Threads));
        var small = ElementGrid.For(accelerator, 5);
        Assert.AreEqual((5, 5), (small.Count, small.Threads));
        var none = ElementGrid.For(accelerator, 0);
        Assert.AreEqual((0, 0), (none.Count, none.Threads));
    }

    [TestMethod]
    public void CountsOutsideThe32BitIndexRangeAreRefused()
    {
        var accelerator = TestDevice.Cpu.Accelerator;
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ElementGrid.For(accelerator, -1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ElementGrid.For(accelerator, 1L + int.MaxValue));
    }
}
