using System.Text.RegularExpressions;
using EnvNet.Kernels;
using EnvNet.Kernels.Tiled;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.IR;
using ILGPU.Runtime;

namespace EnvNet.Tests;

/// <summary>
/// Compiles kernels to PTX for one <see cref="CudaTarget"/> without a GPU, as ILGPU's CUDA accelerator would when a
/// kernel is first launched: the same context settings (<see cref="ComputeDevice.CompilerSettings"/>), ILGPU's PTX
/// backend for the target's architecture and instruction set (no NVVM), and for a kernel with a
/// <c>SpecializedValue</c> the same step ILGPU takes at launch: a wrapper kernel that calls it with the value as a
/// constant, optimised, then compiled.
/// </summary>
internal sealed partial class PtxCompiler : IDisposable
{
    private readonly Context _context;
    private readonly PTXBackend _backend;

    public PtxCompiler(CudaTarget target)
    {
        Target = target;
        _context = Context.Create(builder => ComputeDevice.CompilerSettings(builder));
        _backend = new PTXBackend(_context, target.Architecture, target.InstructionSet, nvvmAPI: null!);
    }

    public CudaTarget Target { get; }

    /// <summary>The PTX of <paramref name="entry"/>: one kernel, or one per value of <paramref name="values"/> where it
    /// takes a <c>SpecializedValue</c> (the kernel's IR is built once and specialised per value).</summary>
    public IEnumerable<(object? Value, string Ptx)> Compile(KernelEntryPoint entry, IReadOnlyList<object> values)
    {
        var description = entry.Grouping == KernelGrouping.Explicit
            ? EntryPointDescription.FromExplicitlyGroupedKernel(entry.Method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(entry.Method);
        var specialization = entry.GroupSpecialization;
        if (!description.HasSpecializedParameters)
        {
            if (values.Count > 0) throw new ArgumentException($"{entry.Name} takes no specialised value, got {values.Count}.");
            yield return (null, ((PTXCompiledKernel)_backend.Compile(description, specialization)).PTXAssembly);
            yield break;
        }
        if (description.Parameters.SpecializedParameters.Length != 1)
            throw new ArgumentException($"{entry.Name}: one specialised parameter expected.");
        var kernel = _backend.PreCompileKernelMethod(description);
        foreach (var value in values)
            yield return (value, Specialize(kernel, description, specialization, value));
    }

    private string Specialize(Method kernel, EntryPointDescription description, KernelSpecialization specialization, object value)
    {
        using var target = kernel.ExtractToContext(out var imported);
        var wrapper = target.Declare(new MethodDeclaration(MethodHandle.Create("LauncherWrapper"), target.VoidType), out _);
        imported.AddFlags(MethodFlags.Inline);
        using (var builder = wrapper.CreateBuilder())
        {
            var block = builder.EntryBlockBuilder;
            var call = block.CreateCall(wrapper.Location, imported);
            var specialized = description.Parameters.SpecializedParameters[0].Index + description.KernelIndexParameterOffset;
            for (var i = 0; i < imported.NumParameters; i++)
            {
                var parameter = builder.AddParameter(imported.Parameters[i].Type, imported.Parameters[i].Name);
                call.Add(i == specialized ? block.CreateValue(wrapper.Location, value, value.GetType()) : parameter);
            }
            call.Seal();
            block.CreateReturn(wrapper.Location);
            builder.Complete();
        }
        target.Optimize();
        return ((PTXCompiledKernel)_backend.Compile(wrapper, description, specialization)).PTXAssembly;
    }

    /// <summary>The architecture the PTX is for (<c>.target sm_NN</c>): ILGPU 1.5.3 writes at most sm_80, which the
    /// driver compiles for newer GPUs.</summary>
    public static int TargetArchitecture(string ptx) =>
        TargetDeclaration().Match(ptx) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;

    [GeneratedRegex(@"^\s*\.target\s+sm_(\d+)", RegexOptions.Multiline)]
    private static partial Regex TargetDeclaration();

    /// <summary>Bytes of static shared memory the PTX declares (<c>.shared .align A .b8 name[N]</c>).</summary>
    public static int StaticSharedBytes(string ptx) =>
        SharedDeclaration().Matches(ptx).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^\s*\.shared\s+\.align\s+\d+\s+\.b8\s+\w+\[(\d+)\]", RegexOptions.Multiline)]
    private static partial Regex SharedDeclaration();

    public void Dispose()
    {
        _backend.Dispose();
        _context.Dispose();
    }
}
