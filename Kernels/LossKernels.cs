using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EnvNet.Kernels;

/// <summary>Sizes of one softmax-KL pass over a batch of logit rows.</summary>
public readonly struct SoftmaxKlArgs(int rows, int classes)
{
    public readonly int Rows = rows;
    public readonly int Classes = classes;
    public readonly float InverseRows = 1f / rows;
}

/// <summary>
/// Softmax over classes fused with the loss KL(t ‖ softmax(z)) = Σ_c t_c·(log t_c − log p_c), taking 0·log 0 = 0,
/// which is the cross-entropy for one-hot t, and its gradient with respect to the logits for the batch mean,
/// dz = (p − t)/rows. One warp per row, so the reductions over classes are register shuffles.
/// </summary>
public static class LossKernels
{
    public const int RowsPerGroup = 4;

    /// <summary>
    /// Explicitly grouped: group (RowsPerGroup·warp size), grid (⌈rows/RowsPerGroup⌉). Writes the logits gradient
    /// and, per row, rowResults[2r] = loss of the row and rowResults[2r+1] = 1 when argmax z = argmax t (first
    /// index on ties, as torch.argmax), else 0, so the host reads one small buffer per step.
    /// </summary>
    public static void SoftmaxKl(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> gradLogits,
        ArrayView<float> rowResults, SoftmaxKlArgs args)
    {
        var row = Grid.IdxX * RowsPerGroup + Warp.WarpIdx;
        if (row >= args.Rows) return;
        var lane = Warp.LaneIdx;
        var offset = row * args.Classes;

        // Maximum of the row (for a stable softmax) and the argmax of logits and targets.
        var max = float.NegativeInfinity;
        var maxIndex = int.MaxValue;
        var targetMax = float.NegativeInfinity;
        var targetMaxIndex = int.MaxValue;
        for (var c = lane; c < args.Classes; c += Warp.WarpSize)
        {
            var z = logits[offset + c];
            if (z > max) { max = z; maxIndex = c; }
            var t = targets[offset + c];
            if (t > targetMax) { targetMax = t; targetMaxIndex = c; }
        }
        for (var delta = Warp.WarpSize / 2; delta > 0; delta /= 2)
        {
            ArgMaxStep(ref max, ref maxIndex, delta);
            ArgMaxStep(ref targetMax, ref targetMaxIndex, delta);
        }

        var sum = 0f;
        for (var c = lane; c < args.Classes; c += Warp.WarpSize)
            sum += XMath.Exp(logits[offset + c] - max);
        sum = WarpSum(sum);
        var logSum = max + XMath.Log(sum);

        var loss = 0f;
        for (var c = lane; c < args.Classes; c += Warp.WarpSize)
        {
            var logP = logits[offset + c] - logSum;
            var t = targets[offset + c];
            if (t > 0) loss += t * (XMath.Log(t) - logP);
            gradLogits[offset + c] = (XMath.Exp(logP) - t) * args.InverseRows;
        }
        loss = WarpSum(loss);

        if (lane == 0)
        {
            rowResults[2 * row] = loss;
            rowResults[2 * row + 1] = maxIndex == targetMaxIndex ? 1f : 0f;
        }
    }

    /// <summary>Butterfly sum: afterwards every lane holds the warp's total.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float WarpSum(float value)
    {
        for (var delta = Warp.WarpSize / 2; delta > 0; delta /= 2)
            value += Warp.ShuffleXor(value, delta);
        return value;
    }

    /// <summary>One butterfly step of an argmax that keeps the smaller index on ties, so all lanes agree.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ArgMaxStep(ref float value, ref int index, int delta)
    {
        var otherValue = Warp.ShuffleXor(value, delta);
        var otherIndex = Warp.ShuffleXor(index, delta);
        if (otherValue > value || (otherValue == value && otherIndex < index))
        {
            value = otherValue;
            index = otherIndex;
        }
    }
}

/// <summary>The softmax-KL kernel loaded once for an accelerator.</summary>
public sealed class LossOps
{
    private static readonly ConditionalWeakTable<Accelerator, LossOps> Loaded = new();

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, SoftmaxKlArgs> _softmaxKl;
    private readonly int _warpSize;

    private LossOps(Accelerator accelerator)
    {
        _warpSize = accelerator.WarpSize;
        _softmaxKl = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, SoftmaxKlArgs>(
            LossKernels.SoftmaxKl);
    }

    public static LossOps For(Accelerator accelerator) => Loaded.GetValue(accelerator, a => new LossOps(a));

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
        var groups = (args.Rows + LossKernels.RowsPerGroup - 1) / LossKernels.RowsPerGroup;
        _softmaxKl(new KernelConfig(groups, LossKernels.RowsPerGroup * _warpSize), logits, targets, gradLogits, rowResults, args);
    }
}
