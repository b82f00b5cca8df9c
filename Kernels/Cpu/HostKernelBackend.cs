using ILGPU.Runtime;

namespace EnvNet.Kernels.Cpu;

/// <summary>
/// The CPU backend: ops written as host C# over the CPU accelerator's buffers (plain host memory, read through
/// their host pointers), vectorised and parallel over the cores, instead of ILGPU's simulated GPU threads. What it
/// does not override runs the plain ILGPU kernels on the same CPU accelerator (<see cref="KernelBackend"/>).
/// </summary>
public sealed class HostKernelBackend(Accelerator accelerator) : KernelBackend(accelerator)
{
    public override string Name => "CPU host kernels";
}
