using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>Adam on the host: the formula of <see cref="AdamKernels.Step"/>, vectorised with the same operations in
/// the same order (no fused multiply-adds; square root and division correctly rounded), so the bits equal the
/// kernel's.</summary>
internal sealed unsafe class HostAdamOps<TSimd, TVector> : IAdamOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    public void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> expAvg, ArrayView<float> expAvgSq, AdamArgs args)
    {
        if (gradient.Length != parameter.Length || expAvg.Length != parameter.Length || expAvgSq.Length != parameter.Length)
            throw new ArgumentException(
                $"Adam needs parameter ({parameter.Length}), gradient ({gradient.Length}), exp_avg ({expAvg.Length}) and exp_avg_sq ({expAvgSq.Length}) of one length.");
        var p = HostView.Ptr(parameter);
        var g = HostView.Ptr(gradient);
        var m = HostView.Ptr(expAvg);
        var v = HostView.Ptr(expAvgSq);
        HostChunks.For(parameter.Length, (start, length) =>
        {
            var (oneMinusBeta1, beta2, oneMinusBeta2) = (1f - args.Beta1, args.Beta2, 1f - args.Beta2);
            var (vWd, vB1, vB2, vB2c) = (TSimd.Broadcast(args.WeightDecay), TSimd.Broadcast(oneMinusBeta1), TSimd.Broadcast(beta2),
                TSimd.Broadcast(oneMinusBeta2));
            var (vStep, vCorrection, vEps) = (TSimd.Broadcast(args.StepSize), TSimd.Broadcast(args.BiasCorrection2Sqrt), TSimd.Broadcast(args.Eps));
            var i = start;
            for (; i + TSimd.Lanes <= start + length; i += TSimd.Lanes)
            {
                var value = TSimd.Load(p + i);
                var grad = TSimd.Add(TSimd.Load(g + i), TSimd.Multiply(vWd, value));
                var avg = TSimd.Load(m + i);
                avg = TSimd.Add(avg, TSimd.Multiply(vB1, TSimd.Subtract(grad, avg)));
                var avgSq = TSimd.Add(TSimd.Multiply(vB2, TSimd.Load(v + i)), TSimd.Multiply(TSimd.Multiply(vB2c, grad), grad));
                TSimd.Store(avg, m + i);
                TSimd.Store(avgSq, v + i);
                var denominator = TSimd.Add(TSimd.Divide(TSimd.Sqrt(avgSq), vCorrection), vEps);
                TSimd.Store(TSimd.Subtract(value, TSimd.Multiply(vStep, TSimd.Divide(avg, denominator))), p + i);
            }
            for (; i < start + length; i++)
            {
                var grad = g[i] + args.WeightDecay * p[i];
                var avg = m[i];
                avg += oneMinusBeta1 * (grad - avg);
                var avgSq = beta2 * v[i] + oneMinusBeta2 * grad * grad;
                m[i] = avg;
                v[i] = avgSq;
                p[i] -= args.StepSize * (avg / (MathF.Sqrt(avgSq) / args.BiasCorrection2Sqrt + args.Eps));
            }
        });
    }
}
