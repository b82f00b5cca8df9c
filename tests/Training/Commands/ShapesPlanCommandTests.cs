using EnvNet.Kernels.Tiled;
using EnvNet.Training.Commands;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary><c>envnet shapes --plan cuda</c>: the kernels and launches each layer gets on CUDA, printed without a GPU
/// after the unchanged output of <c>envnet shapes</c>.</summary>
[TestClass]
public sealed class ShapesPlanCommandTests
{
    [TestMethod]
    public void PlanCuda_AddsEachLayersKernelsAndLaunches_AfterTheUsualOutput()
    {
        var plain = Cli("shapes", "--model", "envnet", "--batch", "32");
        var (code, output, error) = Cli("shapes", "--model", "envnet", "--batch", "32", "--plan", "cuda");

        Assert.AreEqual(ExitCodes.Success, code, error);
        StringAssert.StartsWith(output, plain.Out, "the usual output comes first, unchanged");
        var plan = output[plain.Out.Length..];
        StringAssert.Contains(plan, "on CUDA (sm_90, planned for a H100 SXM with 132 multiprocessors");
        StringAssert.Contains(plan, "batch 32");
        StringAssert.Contains(plan, "feature_conv.conv1.module  Conv2d+BatchNorm2d+ReLU: tiled convolution");
        StringAssert.Contains(plan, "Correlate");
        StringAssert.Contains(plan, "WeightGradientPartial");
        StringAssert.Contains(plan, "ReducePartials         grid (10, 1, 1) group (32, 32, 1) shared 4.0 KiB");
        StringAssert.Contains(plan, "classifier.fc7             Linear: tiled GEMM");
        StringAssert.Contains(plan, "MaxPool2d: plain kernels (auto-grouped)");
        StringAssert.Contains(plan, "4 of 4 convolutions tiled");
    }

    [TestMethod]
    public void PlanCudaSm60_PlansForThePascalReferenceDevice()
    {
        var (code, output, error) = Cli("shapes", "--model", "envnet-tiny", "--plan", "cuda:sm_60");
        Assert.AreEqual(ExitCodes.Success, code, error);
        StringAssert.Contains(output, $"on CUDA (sm_60, planned for a {CudaTarget.Pascal.ReferenceDevice} with {CudaTarget.Pascal.Multiprocessors} multiprocessors");
    }

    [TestMethod]
    public void WithoutPlan_ThereIsNoCudaSection()
    {
        var (code, output, _) = Cli("shapes", "--model", "envnet-tiny");
        Assert.AreEqual(ExitCodes.Success, code);
        Assert.DoesNotContain("on CUDA", output);
    }
}
