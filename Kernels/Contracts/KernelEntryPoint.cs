using System.Reflection;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>How a kernel is launched: auto-grouped (an index per thread, ILGPU picks the group) or explicitly grouped
/// (a <c>KernelConfig</c> with grid, group and shared memory).</summary>
public enum KernelGrouping { AutoGrouped, Explicit }

/// <summary>
/// One kernel an op class loads, as a GPU compiler sees it: the method, how it is launched, the group-size
/// specialisation it is loaded with, and the values of its <c>SpecializedValue</c> parameter that the registered models
/// launch it with (each value is compiled as its own kernel). Every op class lists its kernels next to the constructor
/// that loads them (<c>EntryPoints</c>), and the backends join those lists (<see cref="KernelBackend.PlainEntryPoints"/>,
/// <c>TiledKernelBackend.EntryPoints</c>), so the tests can compile every kernel the CUDA backend can load to PTX
/// without a GPU.
/// </summary>
public sealed class KernelEntryPoint
{
    private KernelEntryPoint(string family, MethodInfo method, KernelGrouping grouping, KernelSpecialization groupSpecialization,
        IReadOnlyList<object> specializedValues)
    {
        if (!method.IsStatic) throw new ArgumentException($"{family}: kernel {method.Name} must be a static method.", nameof(method));
        (Family, Method, Grouping, GroupSpecialization, SpecializedValues) = (family, method, grouping, groupSpecialization, specializedValues);
    }

    /// <summary>The op class that loads the kernel.</summary>
    public string Family { get; }
    public MethodInfo Method { get; }
    public KernelGrouping Grouping { get; }

    /// <summary>ILGPU's specialisation the kernel is loaded with (the largest group it is launched with), or empty.</summary>
    public KernelSpecialization GroupSpecialization { get; }

    /// <summary>Values of the kernel's <c>SpecializedValue</c> parameter in use; empty for a kernel without one.</summary>
    public IReadOnlyList<object> SpecializedValues { get; }

    public string Name => $"{Family}.{Method.Name}";

    /// <summary>Whether the kernel takes a <c>SpecializedValue</c> (then it is compiled once per value, never without one).</summary>
    public bool IsSpecialized => Method.GetParameters().Any(p => p.ParameterType.IsGenericType
                                                                && p.ParameterType.GetGenericTypeDefinition() == typeof(SpecializedValue<>));

    public static KernelEntryPoint AutoGrouped(string family, Delegate kernel) =>
        new(family, kernel.Method, KernelGrouping.AutoGrouped, KernelSpecialization.Empty, []);

    public static KernelEntryPoint Explicit(string family, Delegate kernel, IEnumerable<object>? specializedValues = null,
        KernelSpecialization? groupSpecialization = null) =>
        new(family, kernel.Method, KernelGrouping.Explicit, groupSpecialization ?? KernelSpecialization.Empty,
            specializedValues?.ToList() ?? []);

    public override string ToString() => Name;
}
