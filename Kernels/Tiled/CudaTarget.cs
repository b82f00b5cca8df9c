using ILGPU.Runtime.Cuda;

namespace EnvNet.Kernels.Tiled;

/// <summary>
/// A CUDA architecture the kernels are checked for without a GPU: the PTX target ILGPU compiles for (architecture and
/// the oldest PTX instruction set that has it), CUDA's per-group limits on it, and a reference device whose
/// multiprocessor count the launch plans are made for (it changes only how finely the weight gradient and the fully
/// connected layers split their work). <see cref="Checked"/> is what the test suite and <c>envnet shapes --plan cuda</c>
/// use; the README names them.
/// </summary>
public sealed record CudaTarget(string Name, CudaArchitecture Architecture, CudaInstructionSet InstructionSet, string ReferenceDevice,
    int Multiprocessors, int MaxSharedBytesPerGroupOptIn)
{
    /// <summary>Threads per group on every CUDA architecture since sm_20.</summary>
    public const int MaxThreadsPerGroup = 1024;

    /// <summary>Shared memory a group gets without opting in (a kernel attribute ILGPU 1.5.3 never sets).</summary>
    public const int MaxSharedBytesPerGroup = 48 * 1024;

    /// <summary>32-bit registers a group may hold, and the most one thread may use (sm_50 onwards).</summary>
    public const int RegistersPerGroup = 64 * 1024;
    public const int MaxRegistersPerThread = 255;

    public const int WarpSize = 32;
    public const long MaxGridX = int.MaxValue;
    public const int MaxGridYZ = 65535;

    /// <summary>The oldest architecture the README promises (Pascal): shuffles need PTX 6.0, its ISA here.</summary>
    public static CudaTarget Pascal { get; } = new("sm_60", CudaArchitecture.SM_60, CudaInstructionSet.ISA_60, "Tesla P100", 56, 48 * 1024);

    /// <summary>H100 and H200 (Hopper), the GPUs the project is measured on; PTX 7.8 is the first with sm_90.</summary>
    public static CudaTarget Hopper { get; } = new("sm_90", CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, "H100 SXM", 132, 227 * 1024);

    public static IReadOnlyList<CudaTarget> Checked { get; } = [Pascal, Hopper];

    /// <summary>The registers each thread of a group of <paramref name="groupSize"/> threads may use: the group's
    /// share of the register file, at most <see cref="MaxRegistersPerThread"/>. A kernel that the GPU compiler may give
    /// more (one compiled without a maximum group size) cannot be launched with such groups.</summary>
    public static int RegistersPerThreadFor(int groupSize) => Math.Min(MaxRegistersPerThread, RegistersPerGroup / Math.Max(1, groupSize));

    public static CudaTarget Named(string name) =>
        Checked.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"Unknown CUDA target '{name}'; expected one of: {string.Join(", ", Checked.Select(t => t.Name))}.", nameof(name));

    public override string ToString() => $"{Name} ({ReferenceDevice}, {Multiprocessors} multiprocessors)";
}
