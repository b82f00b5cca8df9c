using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>Adadelta on the host: the formula of <see cref="AdadeltaKernels.Step"/>, the same operations in the same
/// order (scalar; an optimizer step is a small part of a training step).</summary>
internal sealed unsafe class HostAdadeltaOps : IAdadeltaOps
{
    public void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> squareAvg, ArrayView<float> accDelta, AdadeltaArgs args)
    {
        if (gradient.Length != parameter.Length || squareAvg.Length != parameter.Length || accDelta.Length != parameter.Length)
            throw new ArgumentException(
                $"Adadelta needs parameter ({parameter.Length}), gradient ({gradient.Length}), square_avg ({squareAvg.Length}) and acc_delta ({accDelta.Length}) of one length.");
        var p = HostView.Ptr(parameter);
        var g = HostView.Ptr(gradient);
        var sq = HostView.Ptr(squareAvg);
        var acc = HostView.Ptr(accDelta);
        HostChunks.For(parameter.Length, (start, length) =>
        {
            for (var i = start; i < start + length; i++)
            {
                var grad = g[i] + args.WeightDecay * p[i];
                var s = args.Rho * sq[i] + (1f - args.Rho) * grad * grad;
                var a = acc[i];
                var delta = MathF.Sqrt(a + args.Eps) / MathF.Sqrt(s + args.Eps) * grad;
                sq[i] = s;
                acc[i] = args.Rho * a + (1f - args.Rho) * delta * delta;
                p[i] -= args.LearningRate * delta;
            }
        });
    }
}
