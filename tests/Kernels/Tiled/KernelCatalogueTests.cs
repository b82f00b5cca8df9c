using System.Reflection;
using System.Reflection.Emit;
using EnvNet.Kernels;
using EnvNet.Kernels.Tiled;

namespace EnvNet.Tests;

/// <summary>
/// The kernel catalogue the PTX test walks is the kernels the backends load: each op class's <c>EntryPoints</c> names
/// exactly the kernel methods its constructor loads (read off the constructor's IL), and every op class the backends
/// use is in <see cref="TiledKernelBackend.EntryPoints"/>. So a kernel added to an op class, or an op class added to a
/// backend, without its entry fails here, naming it, instead of going unchecked to a GPU.
/// </summary>
[TestClass]
public sealed class KernelCatalogueTests
{
    private static readonly Assembly KernelsAssembly = typeof(KernelBackend).Assembly;

    /// <summary>Op classes: the classes of the kernels assembly that list their kernels.</summary>
    private static IEnumerable<Type> OpClasses() =>
        KernelsAssembly.GetTypes().Where(t => t.GetMember("EntryPoints", BindingFlags.Public | BindingFlags.Static).Length > 0);

    private static IReadOnlyList<KernelEntryPoint> EntryPointsOf(Type ops) =>
        ops.GetProperty("EntryPoints", BindingFlags.Public | BindingFlags.Static) is { } property
            ? (IReadOnlyList<KernelEntryPoint>)property.GetValue(null)!
            : (IReadOnlyList<KernelEntryPoint>)ops.GetMethod("EntryPoints", BindingFlags.Public | BindingFlags.Static)!
                .Invoke(null, [Array.Empty<TiledConvPlan>()])!;

    [TestMethod]
    public void EachOpClass_ListsExactlyTheKernelsItsConstructorLoads()
    {
        var opClasses = OpClasses().Where(t => t != typeof(KernelBackend) && t != typeof(TiledKernelBackend)).ToList();
        Assert.IsGreaterThanOrEqualTo(10, opClasses.Count, string.Join(", ", opClasses.Select(t => t.Name)));
        foreach (var ops in opClasses)
        {
            var loaded = ops.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                .SelectMany(c => MethodsReferenced(c, OpCodes.Ldftn))
                .Where(m => m.IsStatic && m.DeclaringType?.Assembly == KernelsAssembly)
                .Select(Describe).Distinct().Order().ToList();
            var listed = EntryPointsOf(ops).Select(e => Describe(e.Method)).Order().ToList();
            Assert.IsNotEmpty(loaded, $"{ops.Name}: no kernel loads found in its constructor");
            CollectionAssert.AreEqual(loaded, listed,
                $"{ops.Name}: the constructor loads [{string.Join(", ", loaded)}], EntryPoints lists [{string.Join(", ", listed)}]");
        }
    }

    [TestMethod]
    public void EveryOpClassTheBackendsUse_IsInTheCudaCatalogue()
    {
        var catalogue = TiledKernelBackend.EntryPoints([]).Select(e => e.Method).ToHashSet();
        var used = new[] { typeof(KernelBackend), typeof(TiledKernelBackend) }
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Cast<MethodBase>().Concat(t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)))
            .SelectMany(m => MethodsReferenced(m, OpCodes.Call).Concat(MethodsReferenced(m, OpCodes.Newobj)))
            .Select(m => m.DeclaringType!)
            .Where(t => OpClasses().Contains(t) && t != typeof(KernelBackend) && t != typeof(TiledKernelBackend))
            .Distinct().ToList();
        Assert.IsGreaterThanOrEqualTo(10, used.Count, string.Join(", ", used.Select(t => t.Name)));
        foreach (var ops in used)
            foreach (var entry in EntryPointsOf(ops))
                Assert.Contains(entry.Method, catalogue, $"{entry.Name}: {ops.Name} is used by a backend but its kernels are not in TiledKernelBackend.EntryPoints");
    }

    [TestMethod]
    public void TheIlReader_FindsTheKernelsOfAKnownConstructor()
    {
        var loaded = typeof(EnvNet.Kernels.Plain.ActivationOps).GetConstructors(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance)
            .SelectMany(c => MethodsReferenced(c, OpCodes.Ldftn)).Select(m => m.Name).Order().ToList();
        CollectionAssert.AreEqual(new[] { "ReluBackward", "ReluForward" }, loaded);
    }

    private static string Describe(MethodBase method) => $"{method.DeclaringType!.Name}.{method.Name}";

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The methods <paramref name="method"/>'s IL references with <paramref name="opCode"/>.</summary>
    private static IEnumerable<MethodBase> MethodsReferenced(MethodBase method, OpCode opCode)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        var generics = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var code = OpCodesByValue[value];
            var size = code.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (code == opCode)
                yield return method.Module.ResolveMethod(BitConverter.ToInt32(il, i), generics, null)!;
            i += size;
        }
    }
}
