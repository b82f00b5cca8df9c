using EnvNet.Kernels;
using EnvNet.Training.Bench;

namespace EnvNet.Tests;

/// <summary><c>envnet selfcheck</c> on the CPU accelerator at reduced sizes: the GPU run starts with it, so the check
/// itself must work before it meets CUDA.</summary>
[TestClass]
public sealed class KernelSelfCheckTests
{
    /// <summary>One small convolution (three comparisons) and one fully connected layer of 5 rows, whose forward and input
    /// gradient get a K split on this accelerator (three comparisons): all within tolerance, and the split is reported.</summary>
    [TestMethod]
    public void SmallConvolutionAndSplitGemmPass()
    {
        var rows = KernelSelfCheck.Run(TestDevice.Tiled, batch: 2,
            convolutions: [("small conv3", new Conv2dShape(1, 1, 12, 30, 13, 8, 13))],
            fullyConnected: [("small fc", 700, 40)], gemmRows: 5);
        Assert.HasCount(6, rows);
        foreach (var row in rows)
            Assert.IsTrue(row.Passed, $"{row.Shape} {row.Kernel}: max rel error {row.MaxRelativeError:E2}");
        var forward = rows.Single(r => r.Kernel == "gemm forward");
        StringAssert.Contains(forward.Shape, "splits", $"the forward product should be split: {forward.Shape}");
    }
}
