using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>Max-pool and transpose on the host: the loops of <see cref="PoolKernels"/>, one (n, c) plane per work item.</summary>
internal sealed unsafe class HostPoolOps<TSimd, TVector> : IPoolOps, ITransposeOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    public void MaxPoolForward(MaxPool2dShape s, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax)
    {
        const string operation = "HostPoolOps.MaxPoolForward";
        ViewChecks.RequireLength(input, s.InputLength, operation, nameof(input));
        ViewChecks.RequireLength(output, s.OutputLength, operation, nameof(output));
        ViewChecks.RequireLength(argmax, s.OutputLength, operation, nameof(argmax));
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        var index = HostView.Ptr(argmax);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var planeInput = x + (long)plane * s.H * s.W;
            var o = (long)plane * s.OutH * s.OutW;
            for (var oh = 0; oh < s.OutH; oh++)
                for (var ow = 0; ow < s.OutW; ow++, o++)
                {
                    var best = s.KH == 1 && s.KW >= TSimd.Lanes
                        ? RowWindowArgMax(planeInput + oh * s.W + ow * s.KW, s.KW) + oh * s.W + ow * s.KW
                        : WindowArgMax(planeInput, s, oh, ow);
                    y[o] = planeInput[best];
                    index[o] = best;
                }
        });
    }

    /// <summary>Row-major scan with a strict &gt;: the first maximum wins a tie, a NaN wins (PyTorch's rule).</summary>
    private static int WindowArgMax(float* plane, MaxPool2dShape s, int oh, int ow)
    {
        var best = oh * s.KH * s.W + ow * s.KW;
        var bestValue = plane[best];
        for (var kh = 0; kh < s.KH; kh++)
        {
            var row = (oh * s.KH + kh) * s.W + ow * s.KW;
            for (var kw = 0; kw < s.KW; kw++)
            {
                var value = plane[row + kw];
                if (value > bestValue || float.IsNaN(value)) (bestValue, best) = (value, row + kw);
            }
        }
        return best;
    }

    /// <summary>The same rule over one row of <paramref name="length"/> ≥ one vector of values, a vector at a time: the
    /// maximum, then the first position holding it; a window with a NaN takes the scalar scan (whose last NaN wins).</summary>
    private static int RowWindowArgMax(float* window, int length)
    {
        var lanes = TSimd.Lanes;
        var vectors = length / lanes * lanes;
        var max = TSimd.Load(window);
        var nan = TSimd.AnyNaN(max);
        for (var i = lanes; i < vectors; i += lanes)
        {
            var v = TSimd.Load(window + i);
            max = TSimd.Max(max, v);
            nan |= TSimd.AnyNaN(v);
        }
        if (nan) return ScanRow(window, length);
        var lanesOfMax = stackalloc float[lanes];
        TSimd.Store(max, lanesOfMax);
        var maxValue = float.NegativeInfinity;
        for (var lane = 0; lane < lanes; lane++) maxValue = Math.Max(maxValue, lanesOfMax[lane]);
        for (var i = vectors; i < length; i++)
        {
            if (float.IsNaN(window[i])) return ScanRow(window, length);
            maxValue = Math.Max(maxValue, window[i]);
        }
        for (var i = 0; i < vectors; i += lanes)
        {
            var hit = TSimd.IndexOf(TSimd.Load(window + i), maxValue);
            if (hit >= 0) return i + hit;
        }
        for (var i = vectors; ; i++)
            if (window[i] == maxValue) return i;
    }

    private static int ScanRow(float* window, int length)
    {
        var best = 0;
        for (var i = 1; i < length; i++)
            if (window[i] > window[best] || float.IsNaN(window[i])) best = i;
        return best;
    }

    public void MaxPoolBackward(MaxPool2dShape s, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput)
    {
        const string operation = "HostPoolOps.MaxPoolBackward";
        ViewChecks.RequireLength(gradOutput, s.OutputLength, operation, nameof(gradOutput));
        ViewChecks.RequireLength(argmax, s.OutputLength, operation, nameof(argmax));
        ViewChecks.RequireLength(gradInput, s.InputLength, operation, nameof(gradInput));
        var dy = HostView.Ptr(gradOutput);
        var index = HostView.Ptr(argmax);
        var dx = HostView.Ptr(gradInput);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var planeGradient = dx + (long)plane * s.H * s.W;
            new Span<float>(planeGradient, s.H * s.W).Clear();
            var o = (long)plane * s.OutH * s.OutW;
            // Windows do not overlap: each output routes its gradient to one distinct input.
            for (var j = 0; j < s.OutH * s.OutW; j++) planeGradient[index[o + j]] = dy[o + j];
        });
    }

    public void Transpose12(TransposeShape s, ArrayView<float> input, ArrayView<float> output)
    {
        const string operation = "HostPoolOps.Transpose12";
        ViewChecks.RequireLength(input, s.Length, operation, nameof(input));
        ViewChecks.RequireLength(output, s.Length, operation, nameof(output));
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        HostParallel.For(s.N, (_, n) =>
        {
            for (var b = 0; b < s.B; b++)
                for (var a = 0; a < s.A; a++)
                    new ReadOnlySpan<float>(x + (((long)n * s.A + a) * s.B + b) * s.W, s.W)
                        .CopyTo(new Span<float>(y + (((long)n * s.B + b) * s.A + a) * s.W, s.W));
        });
    }
}
