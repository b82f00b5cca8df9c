using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EnvNet.Kernels.Host;

/// <summary>The vector width the CPU host kernels run at: the lanes of one register (4, 8 or 16 floats).</summary>
public enum VectorWidth { Bits128 = 128, Bits256 = 256, Bits512 = 512 }

/// <summary>
/// The vector unit of this CPU: which widths it runs natively, which one the host backend takes, and the words the
/// run log, <c>envnet devices</c> and <c>envnet bench</c> use for it. One place decides the width;
/// <see cref="OverrideVariable"/> lets a user or CI force another one (a width the CPU lacks still runs, in .NET's
/// software fallback: right for tests, slow for work).
/// </summary>
public static class VectorUnit
{
    /// <summary>The environment variable that forces a width: 128, 256 or 512.</summary>
    public const string OverrideVariable = "ENVNET_VECTOR_WIDTH";

    /// <summary>The widest width the CPU runs natively, or null where .NET accelerates no vector type.</summary>
    public static VectorWidth? Fastest =>
        Vector512.IsHardwareAccelerated ? VectorWidth.Bits512
        : Vector256.IsHardwareAccelerated ? VectorWidth.Bits256
        : Vector128.IsHardwareAccelerated ? VectorWidth.Bits128
        : null;

    /// <summary>The width the host backend takes: <see cref="OverrideVariable"/> where set, else <see cref="Fastest"/>.</summary>
    public static VectorWidth? Chosen => Parse(Environment.GetEnvironmentVariable(OverrideVariable)) ?? Fastest;

    /// <summary>A width from its number of bits ("256"); null for null or empty; a clear error for anything else.</summary>
    public static VectorWidth? Parse(string? bits)
    {
        if (string.IsNullOrWhiteSpace(bits)) return null;
        return bits.Trim() switch
        {
            "128" => VectorWidth.Bits128,
            "256" => VectorWidth.Bits256,
            "512" => VectorWidth.Bits512,
            _ => throw new ArgumentException($"{OverrideVariable}='{bits}': expected 128, 256 or 512 (bits of one vector register)."),
        };
    }

    /// <summary>The error in <see cref="OverrideVariable"/>, or null where it is unset or names a width.</summary>
    public static string? OverrideError()
    {
        try
        {
            Parse(Environment.GetEnvironmentVariable(OverrideVariable));
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>Whether the CPU runs <paramref name="width"/> in hardware (else .NET emulates it).</summary>
    public static bool IsNative(VectorWidth width) => width switch
    {
        VectorWidth.Bits512 => Vector512.IsHardwareAccelerated,
        VectorWidth.Bits256 => Vector256.IsHardwareAccelerated,
        _ => Vector128.IsHardwareAccelerated,
    };

    /// <summary>Whether multiply-adds are fused in hardware (FMA3 on x64, always on ARM64).</summary>
    public static bool HasFusedMultiplyAdd => Fma.IsSupported || AdvSimd.IsSupported;

    /// <summary>Vector registers the JIT can use: 32 with AVX-512 (EVEX) and on ARM64, else 16. A JIT-time constant
    /// (inlined), so the tile shapes that depend on it fold into the kernels.</summary>
    public static int Registers
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Avx512F.IsSupported || AdvSimd.Arm64.IsSupported ? 32 : 16;
    }

    /// <summary>The instruction set behind a width on this CPU, e.g. "AVX2", "AVX-512", "NEON".</summary>
    public static string InstructionSet(VectorWidth width)
    {
        if (!IsNative(width)) return "emulated";
        if (AdvSimd.IsSupported) return "NEON";
        return width switch
        {
            VectorWidth.Bits512 => "AVX-512",
            VectorWidth.Bits256 => Avx2.IsSupported ? "AVX2" : "AVX",
            _ => Avx.IsSupported ? "AVX" : "SSE",
        };
    }

    /// <summary>E.g. "AVX2 256-bit, FMA, 16 registers".</summary>
    public static string Describe(VectorWidth width) =>
        $"{InstructionSet(width)} {(int)width}-bit, {(HasFusedMultiplyAdd ? "FMA" : "no FMA")}, {Registers} registers";
}

/// <summary>
/// Float lanes at one vector width, for host kernels written once and compiled per width: each kernel is generic over
/// a struct implementing this interface (and the vector type it works on), so the JIT compiles a copy per width with
/// every call inlined, and constants such as <see cref="Lanes"/> and <see cref="TileRows"/> fold into the code.
/// <see cref="MultiplyAdd"/> is fused where the CPU fuses; everything else rounds as the scalar expression would.
/// </summary>
internal unsafe interface ISimd<TVector> where TVector : unmanaged
{
    static abstract VectorWidth Width { get; }

    /// <summary>Floats per vector.</summary>
    static abstract int Lanes { get; }

    /// <summary>Rows of the register tile (<see cref="HostTile{TSimd, TVector}"/>): 8 rows of 3 vectors need 24
    /// accumulators, which fit a file of 32 registers; with 16, 4 rows (12 accumulators, 3 loads, 1 broadcast).</summary>
    static abstract int TileRows { get; }

    static abstract TVector Zero { get; }
    static abstract TVector Load(float* p);
    static abstract void Store(TVector value, float* p);
    static abstract TVector Broadcast(float value);
    static abstract TVector Add(TVector a, TVector b);
    static abstract TVector Subtract(TVector a, TVector b);
    static abstract TVector Multiply(TVector a, TVector b);
    static abstract TVector Divide(TVector a, TVector b);
    static abstract TVector Sqrt(TVector a);
    static abstract TVector Max(TVector a, TVector b);

    /// <summary>a·b + c, fused where the CPU has a fused multiply-add.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    /// <summary>The lanes added.</summary>
    static abstract float Sum(TVector value);

    /// <summary>value where value &gt; 0 or NaN, else 0 (PyTorch's ReLU keeps NaN).</summary>
    static abstract TVector Relu(TVector value);

    /// <summary>value where test &gt; 0, else 0.</summary>
    static abstract TVector WherePositive(TVector test, TVector value);

    /// <summary>Whether any lane is NaN.</summary>
    static abstract bool AnyNaN(TVector value);

    /// <summary>The first lane equal to <paramref name="target"/>, or −1.</summary>
    static abstract int IndexOf(TVector value, float target);

    /// <summary>Each lane: the largest lane of its aligned group of four (lanes 4i..4i+3; a width of 128 bits or more
    /// holds whole groups). For lanes without NaN: which of +0 and −0 it gives is unspecified.</summary>
    static abstract TVector QuadMax(TVector value);

    /// <summary>Bit i set where lane i of a equals lane i of b.</summary>
    static abstract uint EqualBits(TVector a, TVector b);
}

internal readonly unsafe struct Simd512 : ISimd<Vector512<float>>
{
    public static VectorWidth Width => VectorWidth.Bits512;
    public static int Lanes => Vector512<float>.Count;
    public static int TileRows => 8;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, float* p) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> v) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero) | ~Vector512.Equals(v, v), v, Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WherePositive(Vector512<float> test, Vector512<float> value) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(test, Vector512<float>.Zero), value, Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNaN(Vector512<float> value) => !Vector512.EqualsAll(value, value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IndexOf(Vector512<float> value, float target) => Vector512.IndexOf(value, target);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> QuadMax(Vector512<float> value)
    {
        var pairs = Vector512.MaxNative(value, Vector512.Shuffle(value, Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14)));
        return Vector512.MaxNative(pairs, Vector512.Shuffle(pairs, Vector512.Create(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint EqualBits(Vector512<float> a, Vector512<float> b) => (uint)Vector512.ExtractMostSignificantBits(Vector512.Equals(a, b));
}

internal readonly unsafe struct Simd256 : ISimd<Vector256<float>>
{
    public static VectorWidth Width => VectorWidth.Bits256;
    public static int Lanes => Vector256<float>.Count;
    public static int TileRows => VectorUnit.Registers >= 32 ? 8 : 4;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, float* p) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> v) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero) | ~Vector256.Equals(v, v), v, Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WherePositive(Vector256<float> test, Vector256<float> value) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(test, Vector256<float>.Zero), value, Vector256<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNaN(Vector256<float> value) => !Vector256.EqualsAll(value, value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IndexOf(Vector256<float> value, float target) => Vector256.IndexOf(value, target);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> QuadMax(Vector256<float> value)
    {
        var pairs = Vector256.MaxNative(value, Vector256.Shuffle(value, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6)));
        return Vector256.MaxNative(pairs, Vector256.Shuffle(pairs, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5)));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint EqualBits(Vector256<float> a, Vector256<float> b) => Vector256.ExtractMostSignificantBits(Vector256.Equals(a, b));
}

internal readonly unsafe struct Simd128 : ISimd<Vector128<float>>
{
    public static VectorWidth Width => VectorWidth.Bits128;
    public static int Lanes => Vector128<float>.Count;
    public static int TileRows => VectorUnit.Registers >= 32 ? 8 : 4;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, float* p) => value.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Sqrt(Vector128<float> a) => Vector128.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Relu(Vector128<float> v) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(v, Vector128<float>.Zero) | ~Vector128.Equals(v, v), v, Vector128<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> WherePositive(Vector128<float> test, Vector128<float> value) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(test, Vector128<float>.Zero), value, Vector128<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyNaN(Vector128<float> value) => !Vector128.EqualsAll(value, value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IndexOf(Vector128<float> value, float target) => Vector128.IndexOf(value, target);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> QuadMax(Vector128<float> value)
    {
        var pairs = Vector128.MaxNative(value, Vector128.Shuffle(value, Vector128.Create(1, 0, 3, 2)));
        return Vector128.MaxNative(pairs, Vector128.Shuffle(pairs, Vector128.Create(2, 3, 0, 1)));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint EqualBits(Vector128<float> a, Vector128<float> b) => Vector128.ExtractMostSignificantBits(Vector128.Equals(a, b));
}
