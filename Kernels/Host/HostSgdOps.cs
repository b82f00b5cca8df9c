using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>SGD on the host: <see cref="SgdKernels.Step"/>'s formula, vectorised with the same rounding.</summary>
internal sealed unsafe class HostSgdOps<TSimd, TVector> : ISgdOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    public void Step(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> momentumBuffer, SgdArgs args)
    {
        if (gradient.Length != parameter.Length || momentumBuffer.Length != parameter.Length)
            throw new ArgumentException(
                $"SGD needs parameter ({parameter.Length}), gradient ({gradient.Length}) and momentum buffer ({momentumBuffer.Length}) of one length.");
        var p = HostView.Ptr(parameter);
        var g = HostView.Ptr(gradient);
        var buffer = HostView.Ptr(momentumBuffer);
        HostChunks.For(parameter.Length, (start, length) =>
        {
            var (lr, mu, wd) = (TSimd.Broadcast(args.LearningRate), TSimd.Broadcast(args.Momentum), TSimd.Broadcast(args.WeightDecay));
            var i = start;
            for (; i + TSimd.Lanes <= start + length; i += TSimd.Lanes)
            {
                var value = TSimd.Load(p + i);
                var step = TSimd.Add(TSimd.Load(g + i), TSimd.Multiply(wd, value));
                var b = TSimd.Add(TSimd.Multiply(mu, TSimd.Load(buffer + i)), step);
                TSimd.Store(b, buffer + i);
                step = args.Nesterov == 1 ? TSimd.Add(step, TSimd.Multiply(mu, b)) : b;
                TSimd.Store(TSimd.Subtract(value, TSimd.Multiply(lr, step)), p + i);
            }
            for (; i < start + length; i++)
            {
                var step = g[i] + args.WeightDecay * p[i];
                var b = args.Momentum * buffer[i] + step;
                buffer[i] = b;
                step = args.Nesterov == 1 ? step + args.Momentum * b : b;
                p[i] -= args.LearningRate * step;
            }
        });
    }
}
