using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// Inverted dropout. Forward (y = x·mask·scale) and backward (dx = dy·mask·scale) are the same map, so one kernel
/// serves both; the mask is recomputed rather than stored, which trades 10 Philox rounds per 4 elements (cheap
/// integer work in a memory-bound kernel) for a byte-mask buffer written in forward and read in backward.
/// </summary>
public static class DropoutKernels
{
    /// <summary>One iteration per block of 4 consecutive elements, which use the 4 words of one Philox call.</summary>
    public static void ApplyMask(Index1D thread, ElementGrid quads, ArrayView<float> input, ArrayView<float> output, DropoutArgs args)
    {
        for (int quad = thread; quad < quads.Count; quad += quads.Threads)
        {
            var block = Philox.Generate((uint)quad, 0, args.StepLow, args.StepHigh, args.SeedLow, args.SeedHigh);
            var first = quad * 4;
            for (var lane = 0; lane < 4; lane++)
            {
                var i = first + lane;
                if (i < args.Length)
                    output[i] = DropoutArgs.Word(block, lane) >= args.DropThreshold ? input[i] * args.Scale : 0f;
            }
        }
    }
}

/// <summary>The dropout kernel loaded once for an accelerator.</summary>
public sealed class DropoutOps : IDropoutOps
{
    private static readonly ConditionalWeakTable<Accelerator, DropoutOps> Loaded = new();

    private readonly Action<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, DropoutArgs> _applyMask;
    private readonly Accelerator _accelerator;

    private DropoutOps(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _applyMask = accelerator.LoadAutoGroupedStreamKernel<Index1D, ElementGrid, ArrayView<float>, ArrayView<float>, DropoutArgs>(
            DropoutKernels.ApplyMask);
    }

    public static DropoutOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new DropoutOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.AutoGrouped(nameof(DropoutOps), DropoutKernels.ApplyMask),
    ];

    /// <summary>output[i] = input[i]·mask(i)·scale for i &lt; args.Length (forward and backward alike).</summary>
    public void ApplyMask(ArrayView<float> input, ArrayView<float> output, DropoutArgs args)
    {
        if (args.Length <= 0 || input.Length < args.Length || output.Length < args.Length)
            throw new ArgumentException(
                $"Dropout over {args.Length} elements needs positive length and views that long (input {input.Length}, output {output.Length}).");
        var quads = ElementGrid.For(_accelerator, (args.Length + 3L) / 4);
        _applyMask(quads.Threads, quads, input, output, args);
    }
}
