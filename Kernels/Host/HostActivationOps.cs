using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>ReLU on the host: the formulas of <see cref="ActivationKernels"/>, vectorised.</summary>
internal sealed unsafe class HostActivationOps<TSimd, TVector> : IActivationOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    public void ReluForward(long count, ArrayView<float> input, ArrayView<float> output)
    {
        const string operation = "HostActivationOps.ReluForward";
        ViewChecks.RequireLength(input, count, operation, nameof(input));
        ViewChecks.RequireLength(output, count, operation, nameof(output));
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        HostChunks.For(count, (start, length) =>
        {
            var i = start;
            for (; i + TSimd.Lanes <= start + length; i += TSimd.Lanes) TSimd.Store(TSimd.Relu(TSimd.Load(x + i)), y + i);
            for (; i < start + length; i++) y[i] = x[i] > 0f || float.IsNaN(x[i]) ? x[i] : 0f;
        });
    }

    public void ReluBackward(long count, ArrayView<float> output, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        const string operation = "HostActivationOps.ReluBackward";
        ViewChecks.RequireLength(output, count, operation, nameof(output));
        ViewChecks.RequireLength(gradOutput, count, operation, nameof(gradOutput));
        ViewChecks.RequireLength(gradInput, count, operation, nameof(gradInput));
        var y = HostView.Ptr(output);
        var dy = HostView.Ptr(gradOutput);
        var dx = HostView.Ptr(gradInput);
        HostChunks.For(count, (start, length) =>
        {
            var i = start;
            for (; i + TSimd.Lanes <= start + length; i += TSimd.Lanes)
                TSimd.Store(TSimd.WherePositive(TSimd.Load(y + i), TSimd.Load(dy + i)), dx + i);
            for (; i < start + length; i++) dx[i] = y[i] > 0f ? dy[i] : 0f;
        });
    }
}
