using System.Runtime.Intrinsics;
using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>SGD on the host: <see cref="SgdKernels.Step"/>'s formula, vectorised with the same rounding.</summary>
internal sealed unsafe class HostSgdOps : ISgdOps
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
            var (lr, mu, wd) = (Vector512.Create(args.LearningRate), Vector512.Create(args.Momentum), Vector512.Create(args.WeightDecay));
            var i = start;
            for (; i + 16 <= start + length; i += 16)
            {
                var value = Vector512.Load(p + i);
                var step = Vector512.Load(g + i) + wd * value;
                var b = mu * Vector512.Load(buffer + i) + step;
                b.Store(buffer + i);
                step = args.Nesterov == 1 ? step + mu * b : b;
                (value - lr * step).Store(p + i);
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
