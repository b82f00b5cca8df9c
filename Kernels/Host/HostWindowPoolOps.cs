using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>
/// Max and average pooling on the host: the rules of <see cref="WindowPoolKernels"/> (−∞ padding for max, the first
/// maximum in row-major order wins a tie and a NaN wins; count_include_pad=True for average), whole (n, c) planes per
/// work item (<see cref="HostChunks.ForPlanes"/>), each plane in a static loop over locals (a lambda's captured shape
/// would be reloaded on every store). The backward passes scatter each window's gradient into a cleared plane in output
/// order, which adds the terms of every input element in the same order as the kernels' gather, so both backends give
/// the same bits. Max pooling's commonest window, four wide with stride four within a row (the esc-learner networks'
/// MaxPool1d(4)), takes the rows' whole windows a vector at a time (<see cref="MaxQuads"/>).
/// </summary>
internal sealed unsafe class HostWindowPoolOps<TSimd, TVector> : IWindowPoolOps where TSimd : ISimd<TVector> where TVector : unmanaged
{
    /// <summary>The window width (and stride) <see cref="MaxQuads"/> serves.</summary>
    private const int Quad = 4;

    public void MaxForward(WindowPoolShape s, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax)
    {
        const string operation = "HostWindowPoolOps.MaxForward";
        Check(s, operation, input, output);
        ViewChecks.RequireLength(argmax, s.OutputLength, operation, nameof(argmax));
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        var index = HostView.Ptr(argmax);
        var (inputPlane, outputPlane) = ((long)s.H * s.W, (long)s.OutH * s.OutW);
        HostChunks.ForPlanes(s.N * s.C, inputPlane, (first, count) =>
        {
            for (var plane = first; plane < first + count; plane++)
                MaxPlane(s, x + plane * inputPlane, y + plane * outputPlane, index + plane * outputPlane);
        });
    }

    private static void MaxPlane(WindowPoolShape s, float* x, float* y, int* index)
    {
        var (width, outW) = (s.W, s.OutW);
        var quadWindows = s is { KH: 1, KW: Quad, SW: Quad, PW: 0 } ? Math.Min(outW, width / Quad) : 0;
        for (var oh = 0; oh < s.OutH; oh++)
        {
            var (h0, hEnd) = Clip(oh, s.SH, s.PH, s.KH, s.H);
            var first = hEnd - h0 == 1 ? MaxQuads(x + h0 * width, h0 * width, quadWindows, y + oh * outW, index + oh * outW) : 0;
            for (var ow = first; ow < outW; ow++)
            {
                var (w0, wEnd) = Clip(ow, s.SW, s.PW, s.KW, width);
                if (hEnd - h0 == 1)
                {
                    var at = RowArgMax(x + h0 * width + w0, wEnd - w0);
                    y[oh * outW + ow] = x[h0 * width + w0 + at];
                    index[oh * outW + ow] = h0 * width + w0 + at;
                    continue;
                }
                var best = h0 * width + w0;
                var bestValue = float.NegativeInfinity;
                for (var h = h0; h < hEnd; h++)
                {
                    var row = h * width;
                    for (var w = w0; w < wEnd; w++)
                    {
                        var value = x[row + w];
                        if (value > bestValue || float.IsNaN(value))
                        {
                            bestValue = value;
                            best = row + w;
                        }
                    }
                }
                y[oh * outW + ow] = bestValue;
                index[oh * outW + ow] = best;
            }
        }
    }

    /// <summary>The first windows of a row (four wide, stride four, all inside the row) whole vectors of them at a time:
    /// each lane gets its window's maximum (<see cref="ISimd{TVector}.QuadMax"/>), and the lowest lane equal to it is the
    /// scan's winner (±0 compare equal, so the first of them wins, as in the scan). A vector holding a NaN goes through
    /// <see cref="RowArgMax"/>. Returns how many windows were done (the rest of the row goes through the scan).</summary>
    private static int MaxQuads(float* row, int rowOffset, int windows, float* y, int* index)
    {
        var perVector = TSimd.Lanes / Quad;
        var done = windows / perVector * perVector;
        for (var ow = 0; ow < done; ow += perVector)
        {
            var p = row + ow * Quad;
            var v = TSimd.Load(p);
            var hasNaN = TSimd.AnyNaN(v);
            var equal = hasNaN ? 0u : TSimd.EqualBits(v, TSimd.QuadMax(v));
            for (var j = 0; j < perVector; j++)
            {
                var window = p + j * Quad;
                var at = hasNaN ? RowArgMax(window, Quad) : System.Numerics.BitOperations.TrailingZeroCount((equal >> (j * Quad)) & 0xFu);
                y[ow + j] = window[at];
                index[ow + j] = rowOffset + (ow + j) * Quad + at;
            }
        }
        return done;
    }

    /// <summary>The scan's winner in one row of <paramref name="length"/> values without its unpredictable branch: the
    /// maximum (MathF.Max keeps a NaN), then the first position equal to it (for up to 32 values the lowest bit of a
    /// mask of the equal positions, built without branches), or the last NaN where there is one.</summary>
    private static int RowArgMax(float* p, int length)
    {
        var max = p[0];
        for (var k = 1; k < length; k++) max = MathF.Max(max, p[k]);
        var best = 0;
        if (float.IsNaN(max))
        {
            for (var k = 0; k < length; k++)
                if (float.IsNaN(p[k])) best = k;
            return best;
        }
        if (length <= 32)
        {
            var equal = 0u;
            for (var k = 0; k < length; k++) equal |= (p[k] == max ? 1u : 0u) << k;
            return System.Numerics.BitOperations.TrailingZeroCount(equal);
        }
        for (var k = length - 1; k >= 0; k--) best = p[k] == max ? k : best;
        return best;
    }

    public void MaxBackward(WindowPoolShape s, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput)
    {
        const string operation = "HostWindowPoolOps.MaxBackward";
        Check(s, operation, gradInput, gradOutput);
        ViewChecks.RequireLength(argmax, s.OutputLength, operation, nameof(argmax));
        var dy = HostView.Ptr(gradOutput);
        var index = HostView.Ptr(argmax);
        var dx = HostView.Ptr(gradInput);
        var (inputPlane, outputPlane) = ((long)s.H * s.W, (long)s.OutH * s.OutW);
        HostChunks.ForPlanes(s.N * s.C, inputPlane, (first, count) =>
        {
            for (var plane = first; plane < first + count; plane++)
                RouteToArgmax(dy + plane * outputPlane, index + plane * outputPlane, (int)outputPlane, dx + plane * inputPlane, (int)inputPlane);
        });
    }

    private static void RouteToArgmax(float* dy, int* index, int outputs, float* dx, int inputs)
    {
        new Span<float>(dx, inputs).Clear();
        for (var j = 0; j < outputs; j++) dx[index[j]] += dy[j];
    }

    public void AverageForward(WindowPoolShape s, ArrayView<float> input, ArrayView<float> output)
    {
        Check(s, "HostWindowPoolOps.AverageForward", input, output);
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        var (inputPlane, outputPlane) = ((long)s.H * s.W, (long)s.OutH * s.OutW);
        HostChunks.ForPlanes(s.N * s.C, inputPlane, (first, count) =>
        {
            for (var plane = first; plane < first + count; plane++) AveragePlane(s, x + plane * inputPlane, y + plane * outputPlane);
        });
    }

    private static void AveragePlane(WindowPoolShape s, float* x, float* y)
    {
        var (width, outW) = (s.W, s.OutW);
        for (var oh = 0; oh < s.OutH; oh++)
        {
            var (h0, hEnd) = Clip(oh, s.SH, s.PH, s.KH, s.H);
            for (var ow = 0; ow < outW; ow++)
            {
                var (w0, wEnd) = Clip(ow, s.SW, s.PW, s.KW, width);
                var sum = 0f;
                for (var h = h0; h < hEnd; h++)
                    for (var w = w0; w < wEnd; w++) sum += x[h * width + w];
                y[oh * outW + ow] = sum / Divisor(s, oh, ow);
            }
        }
    }

    public void AverageBackward(WindowPoolShape s, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        Check(s, "HostWindowPoolOps.AverageBackward", gradInput, gradOutput);
        var dy = HostView.Ptr(gradOutput);
        var dx = HostView.Ptr(gradInput);
        var (inputPlane, outputPlane) = ((long)s.H * s.W, (long)s.OutH * s.OutW);
        HostChunks.ForPlanes(s.N * s.C, inputPlane, (first, count) =>
        {
            for (var plane = first; plane < first + count; plane++)
                SpreadAverage(s, dy + plane * outputPlane, dx + plane * inputPlane);
        });
    }

    private static void SpreadAverage(WindowPoolShape s, float* dy, float* dx)
    {
        var (width, outW) = (s.W, s.OutW);
        new Span<float>(dx, s.H * width).Clear();
        for (var oh = 0; oh < s.OutH; oh++)
        {
            var (h0, hEnd) = Clip(oh, s.SH, s.PH, s.KH, s.H);
            for (var ow = 0; ow < outW; ow++)
            {
                var (w0, wEnd) = Clip(ow, s.SW, s.PW, s.KW, width);
                var share = dy[oh * outW + ow] / Divisor(s, oh, ow);
                for (var h = h0; h < hEnd; h++)
                    for (var w = w0; w < wEnd; w++) dx[h * width + w] += share;
            }
        }
    }

    /// <summary>The input range [start, end) window <paramref name="o"/> covers along one axis, padding cut off.</summary>
    private static (int Start, int End) Clip(int o, int stride, int pad, int kernel, int size)
    {
        var start = o * stride - pad;
        return (Math.Max(start, 0), Math.Min(start + kernel, size));
    }

    /// <summary>count_include_pad=True: the window clipped to the padded input.</summary>
    private static float Divisor(WindowPoolShape s, int oh, int ow)
    {
        var (h0, w0) = (oh * s.SH - s.PH, ow * s.SW - s.PW);
        return (Math.Min(h0 + s.KH, s.H + s.PH) - h0) * (Math.Min(w0 + s.KW, s.W + s.PW) - w0);
    }

    private static void Check(WindowPoolShape s, string operation, ArrayView<float> inputLike, ArrayView<float> outputLike)
    {
        ViewChecks.RequireLength(inputLike, s.InputLength, operation, "input");
        ViewChecks.RequireLength(outputLike, s.OutputLength, operation, "output");
    }
}
