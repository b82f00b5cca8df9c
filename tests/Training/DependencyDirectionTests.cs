using System.Reflection;
using System.Reflection.Emit;
using EnvNet.Kernels;
using EnvNet.Network;
using EnvNet.Training.Commands;
using EnvNet.Training.Run;

namespace EnvNet.Tests;

/// <summary>
/// The direction of dependencies, commands → run → network → kernels, never back: the assemblies below the product
/// reference only those below them, and inside the product nothing but the commands touches the commands or the
/// command-line library, read off every signature and method body.
/// </summary>
[TestClass]
public sealed class DependencyDirectionTests
{
    private const string CommandsNamespace = "EnvNet.Training.Commands";

    [TestMethod]
    public void EachAssemblyReferencesOnlyTheLayersBelowIt()
    {
        static string[] ProjectReferences(Assembly assembly) =>
            assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("EnvNet.", StringComparison.Ordinal)).Order().ToArray();

        CollectionAssert.AreEqual(Array.Empty<string>(), ProjectReferences(typeof(ComputeDevice).Assembly), "EnvNet.Kernels");
        CollectionAssert.AreEqual(new[] { "EnvNet.Kernels" }, ProjectReferences(typeof(NetworkModel).Assembly), "EnvNet.Network");
        CollectionAssert.AreEqual(Array.Empty<string>(), ProjectReferences(typeof(Esc50Dataset.Esc50Metadata).Assembly), "EnvNet.Esc50Dataset");
    }

    [TestMethod]
    public void NothingButTheCommandsUsesTheCommandLine()
    {
        var product = typeof(TrainingService).Assembly;
        Assert.AreEqual(CommandsNamespace, typeof(EnvNetCli).Namespace);
        var violations = new List<string>();
        foreach (var type in product.GetTypes().Where(t => t.Namespace is { } ns && ns.StartsWith("EnvNet.", StringComparison.Ordinal) && ns != CommandsNamespace))
            foreach (var used in UsedTypes(type).Where(IsCommandLine).Distinct())
                violations.Add($"{type.FullName} uses {used.FullName}");
        Assert.AreEqual(0, violations.Count, string.Join("\n", violations));
    }

    private static bool IsCommandLine(Type type) =>
        type.Namespace == CommandsNamespace || type.Assembly.GetName().Name == "System.CommandLine";

    /// <summary>The types in a type's signatures (base, interfaces, fields, properties, methods) and those its method
    /// bodies refer to (types, fields and methods named by IL tokens), generic arguments included.</summary>
    private static IEnumerable<Type> UsedTypes(Type type)
    {
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var direct = new List<Type?> { type.BaseType };
        direct.AddRange(type.GetInterfaces());
        direct.AddRange(type.GetFields(All).Select(f => f.FieldType));
        direct.AddRange(type.GetProperties(All).Select(p => p.PropertyType));
        var methods = type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)).ToList();
        foreach (var method in methods)
        {
            if (method is MethodInfo info) direct.Add(info.ReturnType);
            direct.AddRange(method.GetParameters().Select(p => p.ParameterType));
            direct.AddRange(TokenTypes(method));
        }
        return direct.OfType<Type>().SelectMany(Expand);
    }

    private static IEnumerable<Type> Expand(Type type)
    {
        yield return type;
        if (type.HasElementType) foreach (var t in Expand(type.GetElementType()!)) yield return t;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
            foreach (var t in type.GetGenericArguments().SelectMany(Expand)) yield return t;
    }

    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(op => op.Value, op => op.OperandType);

    /// <summary>The declaring or named type of every type, field and method token of a method body.</summary>
    private static IEnumerable<Type> TokenTypes(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            short code = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            var operand = Operands[code];
            if (operand is OperandType.InlineType or OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok)
            {
                var member = method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArguments, methodArguments);
                if (member is Type t) yield return t;
                else if (member?.DeclaringType is { } declaring) yield return declaring;
                if (member is FieldInfo field) yield return field.FieldType;
            }
            at += operand switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
                _ => 4,
            };
        }
    }
}
