using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>Adam on the host: the formula of <see cref="AdamKernels.Step"/>, vectorised with the same operations in
/// the same order (no fused multiply-adds; square root and division correctly rounded), so the bits equal the
/// kernel's.</summary>
internal sealed unsafe class HostAdamOps : IAdamOps
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
            var (vWd, vB1, vB2, vB2c) = (Vector512.Create(args.WeightDecay), Vector512.Create(oneMinusBeta1), Vector512.Create(beta2),
                Vector512.Create(oneMinusBeta2));
            var (vStep, vCorrection, vEps) = (Vector512.Create(args.StepSize), Vector512.Create(args.BiasCorrection2Sqrt), Vector512.Create(args.Eps));
            var i = start;
            for (; i + 16 <= start + length; i += 16)
            {
                var value = Vector512.Load(p + i);
                var grad = Vector512.Load(g + i) + vWd * value;
                var avg = Vector512.Load(m + i);
                avg += vB1 * (grad - avg);
                var avgSq = vB2 * Vector512.Load(v + i) + vB2c * grad * grad;
                avg.Store(m + i);
                avgSq.Store(v + i);
                (value - vStep * (avg / (Vector512.Sqrt(avgSq) / vCorrection + vEps))).Store(p + i);
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
