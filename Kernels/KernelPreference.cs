using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// Which kernels the layers launch. CUDA gets the tiled shared-memory kernels. Everything else gets the plain
/// one-thread-per-output kernels:
/// <list type="bullet">
/// <item>OpenCL: the tiled convolutions reduce with warp shuffles, and ILGPU 1.5.3's OpenCL backend does not generate
/// them for a device without sub-groups (measured on an Intel/PoCL CPU OpenCL device reporting warp size 0:
/// InvalidCodeGenerationException at CLCodeGenerator.GenerateCode(WarpShuffle)); the tiled kernels were verified on
/// CUDA only.</item>
/// <item>The CPU accelerator: it simulates every thread of a group with an OS thread and switches threads at each
/// barrier, so barrier-heavy tiles run several times slower there (the tests still run the tiled kernels on it, with
/// GPU group shapes).</item>
/// </list>
/// <see cref="PlainOnly"/> forces the plain kernels everywhere, for the "before" figures of
/// <c>envnet bench --plain-kernels</c>.
/// </summary>
public static class KernelPreference
{
    public static bool PlainOnly { get; set; }

    public static bool Tiled(Accelerator accelerator) => !PlainOnly && accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>Whether kernels with warp shuffles (the tiled convolutions) compile at all: on CUDA, and on the CPU
    /// accelerator, which simulates them; not on OpenCL (see above).</summary>
    public static bool WarpShuffles(Accelerator accelerator) => accelerator.AcceleratorType != AcceleratorType.OpenCL;
}
