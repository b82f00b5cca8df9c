using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>Softmax-KL loss on the host: <see cref="LossKernels.SoftmaxKl"/>'s formulas, one row at a time
/// (a batch of logits is a few thousand values).</summary>
internal sealed unsafe class HostLossOps : ILossOps
{
    public void SoftmaxKl(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> gradLogits, ArrayView<float> rowResults, SoftmaxKlArgs args)
    {
        var elements = (long)args.Rows * args.Classes;
        if (args.Rows <= 0 || args.Classes <= 0)
            throw new ArgumentOutOfRangeException(nameof(args), $"Softmax-KL needs positive rows and classes, got {args.Rows} × {args.Classes}.");
        if (logits.Length < elements || targets.Length < elements || gradLogits.Length < elements || rowResults.Length < 2L * args.Rows)
            throw new ArgumentException(
                $"Softmax-KL over {args.Rows} × {args.Classes} needs that many logits ({logits.Length}), targets ({targets.Length}) and gradients ({gradLogits.Length}), and {2 * args.Rows} row results ({rowResults.Length}).");
        var z = HostView.Ptr(logits);
        var t = HostView.Ptr(targets);
        var dz = HostView.Ptr(gradLogits);
        var results = HostView.Ptr(rowResults);
        for (var row = 0; row < args.Rows; row++)
        {
            var o = row * args.Classes;
            int maxIndex = 0, targetIndex = 0;
            for (var c = 1; c < args.Classes; c++)
            {
                if (z[o + c] > z[o + maxIndex]) maxIndex = c;
                if (t[o + c] > t[o + targetIndex]) targetIndex = c;
            }
            var max = z[o + maxIndex];
            var sum = 0f;
            for (var c = 0; c < args.Classes; c++) sum += MathF.Exp(z[o + c] - max);
            var logSum = max + MathF.Log(sum);
            var loss = 0f;
            for (var c = 0; c < args.Classes; c++)
            {
                var logP = z[o + c] - logSum;
                var target = t[o + c];
                if (target > 0) loss += target * (MathF.Log(target) - logP);
                dz[o + c] = (MathF.Exp(logP) - target) * args.InverseRows;
            }
            results[2 * row] = loss;
            results[2 * row + 1] = maxIndex == targetIndex ? 1f : 0f;
        }
    }
}
