using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>
/// Which kernels the layers launch. GPUs get the tiled shared-memory kernels. The CPU accelerator gets the plain
/// one-thread-per-output kernels: it simulates every thread of a group with an OS thread and switches threads at each
/// barrier, so barrier-heavy tiles run several times slower there (the tests still run the tiled kernels on it, with
/// GPU group shapes). <see cref="PlainOnly"/> forces the plain kernels everywhere, for the "before" figures of
/// <c>envnet bench --plain-kernels</c>.
/// </summary>
public static class KernelPreference
{
    public static bool PlainOnly { get; set; }

    public static bool Tiled(Accelerator accelerator) => !PlainOnly && accelerator.AcceleratorType != AcceleratorType.CPU;
}
