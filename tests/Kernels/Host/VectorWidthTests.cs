using EnvNet.Kernels;
using EnvNet.Kernels.Host;
using static EnvNet.Tests.EnvNetRuns;

namespace EnvNet.Tests;

/// <summary>
/// The CPU backend's vector width: chosen once, forced by ENVNET_VECTOR_WIDTH, named in what envnet prints. The
/// widths run here whatever this CPU has (one it lacks runs in .NET's software fallback), so these tests hold on
/// every machine; the kernels at each width are checked against float64 in the kernel test classes
/// (<see cref="TestDevice.Backends"/>) and a whole training pass in <see cref="HostBackendTests"/>.
/// </summary>
[TestClass]
public sealed class VectorWidthTests
{
    [TestMethod]
    public void OverrideParsesBitsAndRefusesAnythingElse()
    {
        Assert.AreEqual(VectorWidth.Bits128, VectorUnit.Parse("128"));
        Assert.AreEqual(VectorWidth.Bits256, VectorUnit.Parse(" 256 "));
        Assert.AreEqual(VectorWidth.Bits512, VectorUnit.Parse("512"));
        Assert.IsNull(VectorUnit.Parse(null));
        Assert.IsNull(VectorUnit.Parse(""));
        foreach (var bad in new[] { "64", "avx2", "1024", "256-bit" })
        {
            var error = Assert.ThrowsExactly<ArgumentException>(() => VectorUnit.Parse(bad));
            StringAssert.Contains(error.Message, $"ENVNET_VECTOR_WIDTH='{bad}'");
            StringAssert.Contains(error.Message, "expected 128, 256 or 512");
        }
    }

    /// <summary>Each width the backend is built at is the width its ops run at, and its name says which.</summary>
    [TestMethod]
    [DataRow(VectorWidth.Bits128)]
    [DataRow(VectorWidth.Bits256)]
    [DataRow(VectorWidth.Bits512)]
    public void BackendRunsAndNamesTheWidthItWasBuiltAt(VectorWidth width)
    {
        var backend = (HostKernelBackend)TestDevice.For(KernelChoice.Host, width).Kernels;
        Assert.AreEqual(width, backend.Width);
        StringAssert.StartsWith(backend.Name, "CPU host kernels, ");
        StringAssert.Contains(backend.Name, $" {(int)width}-bit, ");
        StringAssert.EndsWith(backend.Name, $", {Environment.ProcessorCount} threads");
    }

    /// <summary>A training step of envnet-tiny in a process of its own with the width forced: it runs, and the bench
    /// names the kernels and width it ran.</summary>
    [TestMethod]
    [DataRow("128")]
    [DataRow("256")]
    [DataRow("512")]
    public void ForcedWidthRunsATrainingStepAndBenchNamesIt(string bits)
    {
        var (code, output, error) = RunEnvnet(bits, "bench", "--model", "envnet-tiny", "--batch", "4", "--steps", "1", "--warmup", "0",
            "--step-only", "--accelerator", "cpu");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, $"kernels: CPU host kernels, ");
        StringAssert.Contains(output, $" {bits}-bit, ");
    }

    [TestMethod]
    public void BadWidthIsRefusedBeforeAnyCommandRuns()
    {
        var (code, output, error) = RunEnvnet("avx2", "devices");
        Assert.AreEqual(2, code);
        Assert.AreEqual("", output);
        StringAssert.Contains(error, "ENVNET_VECTOR_WIDTH='avx2': expected 128, 256 or 512");
        Assert.AreEqual(1, error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, error);
    }

    private static (int Code, string Output, string Error) RunEnvnet(string bits, params string[] args)
    {
        var output = new System.Text.StringBuilder();
        using var process = Start(args, new Dictionary<string, string> { [VectorUnit.OverrideVariable] = bits }, line => output.AppendLine(line));
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.ToString(), error);
    }
}
