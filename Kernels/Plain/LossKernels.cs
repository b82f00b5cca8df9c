using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Plain;

/// <summary>
/// Softmax over classes fused with the loss KL(t ‖ softmax(z)) = Σ_c t_c·(log t_c − log p_c), taking 0·log 0 = 0,
/// which is the cross-entropy for one-hot t, and its gradient with respect to the logits for the batch mean,
/// dz = (p − t)/rows. One group of <see cref="GroupSize"/> threads per row: each thread strides over the classes, then
/// shared-memory trees combine the threads. No warp intrinsics, so it also runs where ILGPU generates no warp shuffles
/// (OpenCL devices without sub-groups, which report warp size 0).
/// </summary>
public static class LossKernels
{
    /// <summary>Threads per row. The tree pairs thread i with i + half, as a 32-lane butterfly pairs its lanes, so the
    /// sums round exactly as the earlier one-warp-per-row kernel did on CUDA.</summary>
    public const int GroupSize = 32;

    /// <summary>
    /// Explicitly grouped: group (<see cref="GroupSize"/>), grid (rows). Writes the logits gradient and, per row,
    /// rowResults[2r] = loss of the row and rowResults[2r+1] = 1 when argmax z = argmax t (first index on ties, as
    /// torch.argmax), else 0, so the host reads one small buffer per step.
    /// </summary>
    public static void SoftmaxKl(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> gradLogits,
        ArrayView<float> rowResults, SoftmaxKlArgs args)
    {
        var maxValues = SharedMemory.Allocate<float>(GroupSize);
        var maxIndices = SharedMemory.Allocate<int>(GroupSize);
        var targetMaxValues = SharedMemory.Allocate<float>(GroupSize);
        var targetMaxIndices = SharedMemory.Allocate<int>(GroupSize);
        var sums = SharedMemory.Allocate<float>(GroupSize);
        var row = Grid.IdxX;
        var thread = Group.IdxX;
        var offset = row * args.Classes;

        // Maximum of the row (for a stable softmax) and the argmax of logits and targets.
        var max = float.NegativeInfinity;
        var maxIndex = int.MaxValue;
        var targetMax = float.NegativeInfinity;
        var targetMaxIndex = int.MaxValue;
        for (var c = thread; c < args.Classes; c += GroupSize)
        {
            var z = logits[offset + c];
            if (z > max) { max = z; maxIndex = c; }
            var t = targets[offset + c];
            if (t > targetMax) { targetMax = t; targetMaxIndex = c; }
        }
        maxValues[thread] = max;
        maxIndices[thread] = maxIndex;
        targetMaxValues[thread] = targetMax;
        targetMaxIndices[thread] = targetMaxIndex;
        for (var half = GroupSize / 2; half > 0; half /= 2)
        {
            Group.Barrier();
            if (thread < half)
            {
                KeepArgMax(maxValues, maxIndices, thread, thread + half);
                KeepArgMax(targetMaxValues, targetMaxIndices, thread, thread + half);
            }
        }
        Group.Barrier();
        max = maxValues[0];

        var sum = 0f;
        for (var c = thread; c < args.Classes; c += GroupSize)
            sum += XMath.Exp(logits[offset + c] - max);
        var logSum = max + XMath.Log(GroupSum(sums, thread, sum));

        var loss = 0f;
        for (var c = thread; c < args.Classes; c += GroupSize)
        {
            var logP = logits[offset + c] - logSum;
            var t = targets[offset + c];
            if (t > 0) loss += t * (XMath.Log(t) - logP);
            gradLogits[offset + c] = (XMath.Exp(logP) - t) * args.InverseRows;
        }
        loss = GroupSum(sums, thread, loss);

        if (thread == 0)
        {
            rowResults[2 * row] = loss;
            rowResults[2 * row + 1] = maxIndices[0] == targetMaxIndices[0] ? 1f : 0f;
        }
    }

    /// <summary>Sum over the group by a tree in <paramref name="sums"/>; every thread gets the total, and the closing
    /// barrier lets the next call reuse <paramref name="sums"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float GroupSum(ArrayView<float> sums, int thread, float value)
    {
        sums[thread] = value;
        for (var half = GroupSize / 2; half > 0; half /= 2)
        {
            Group.Barrier();
            if (thread < half) sums[thread] += sums[thread + half];
        }
        Group.Barrier();
        var total = sums[0];
        Group.Barrier();
        return total;
    }

    /// <summary>One tree step of an argmax: slot <paramref name="keep"/> takes slot <paramref name="other"/> when that
    /// holds a larger value, or the same value at a smaller index (first index on ties).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KeepArgMax(ArrayView<float> values, ArrayView<int> indices, int keep, int other)
    {
        if (values[other] > values[keep] || (values[other] == values[keep] && indices[other] < indices[keep]))
        {
            values[keep] = values[other];
            indices[keep] = indices[other];
        }
    }
}

/// <summary>The softmax-KL kernel loaded once for an accelerator.</summary>
public sealed class LossOps : ILossOps
{
    private static readonly ConditionalWeakTable<Accelerator, LossOps> Loaded = new();

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, SoftmaxKlArgs> _softmaxKl;

    private LossOps(Accelerator accelerator)
    {
        _softmaxKl = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, SoftmaxKlArgs>(
            LossKernels.SoftmaxKl);
    }

    public static LossOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new LossOps(a));

    /// <summary>The kernels the constructor loads, for the PTX checks (<see cref="KernelEntryPoint"/>); a test reads the
    /// constructor and fails where the two differ.</summary>
    public static IReadOnlyList<KernelEntryPoint> EntryPoints { get; } =
    [
        KernelEntryPoint.Explicit(nameof(LossOps), LossKernels.SoftmaxKl),
    ];

    /// <summary>Fills gradLogits (rows × classes) and rowResults (rows × 2: loss, argmax hit); see
    /// <see cref="LossKernels.SoftmaxKl"/>.</summary>
    public void SoftmaxKl(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> gradLogits,
        ArrayView<float> rowResults, SoftmaxKlArgs args)
    {
        var elements = (long)args.Rows * args.Classes;
        if (args.Rows <= 0 || args.Classes <= 0 || elements > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(args), $"Softmax-KL needs positive rows and classes, got {args.Rows} × {args.Classes}.");
        if (logits.Length < elements || targets.Length < elements || gradLogits.Length < elements)
            throw new ArgumentException(
                $"Softmax-KL over {args.Rows} × {args.Classes} needs that many logits ({logits.Length}), targets ({targets.Length}) and gradients ({gradLogits.Length}).");
        if (rowResults.Length < 2L * args.Rows)
            throw new ArgumentException($"Softmax-KL row results hold {rowResults.Length} floats; {2 * args.Rows} needed.");
        _softmaxKl(new KernelConfig(args.Rows, LossKernels.GroupSize), logits, targets, gradLogits, rowResults, args);
    }
}
