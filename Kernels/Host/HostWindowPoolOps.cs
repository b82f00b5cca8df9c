using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>
/// Max and average pooling on the host: the rules of <see cref="WindowPoolKernels"/> (−∞ padding for max, the first
/// maximum in row-major order wins a tie and a NaN wins; count_include_pad=True for average), one (n, c) plane per work
/// item. The backward passes scatter each window's gradient into a cleared plane in output order, which adds the terms
/// of every input element in the same order as the kernels' gather, so both backends give the same bits.
/// </summary>
internal sealed unsafe class HostWindowPoolOps : IWindowPoolOps
{
    public void MaxForward(WindowPoolShape s, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax)
    {
        const string operation = "HostWindowPoolOps.MaxForward";
        Check(s, operation, input, output);
        ViewChecks.RequireLength(argmax, s.OutputLength, operation, nameof(argmax));
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        var index = HostView.Ptr(argmax);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var planeInput = x + (long)plane * s.H * s.W;
            var o = (long)plane * s.OutH * s.OutW;
            for (var oh = 0; oh < s.OutH; oh++)
            {
                var (h0, hEnd) = Clip(oh, s.SH, s.PH, s.KH, s.H);
                for (var ow = 0; ow < s.OutW; ow++, o++)
                {
                    var (w0, wEnd) = Clip(ow, s.SW, s.PW, s.KW, s.W);
                    var best = h0 * s.W + w0;
                    var bestValue = float.NegativeInfinity;
                    for (var h = h0; h < hEnd; h++)
                        for (var w = w0; w < wEnd; w++)
                        {
                            var value = planeInput[h * s.W + w];
                            if (value > bestValue || float.IsNaN(value)) (bestValue, best) = (value, h * s.W + w);
                        }
                    y[o] = bestValue;
                    index[o] = best;
                }
            }
        });
    }

    public void MaxBackward(WindowPoolShape s, ArrayView<float> gradOutput, ArrayView<int> argmax, ArrayView<float> gradInput)
    {
        const string operation = "HostWindowPoolOps.MaxBackward";
        Check(s, operation, gradInput, gradOutput);
        ViewChecks.RequireLength(argmax, s.OutputLength, operation, nameof(argmax));
        var dy = HostView.Ptr(gradOutput);
        var index = HostView.Ptr(argmax);
        var dx = HostView.Ptr(gradInput);
        var outputs = s.OutH * s.OutW;
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var planeGrad = dx + (long)plane * s.H * s.W;
            new Span<float>(planeGrad, s.H * s.W).Clear();
            var o = (long)plane * outputs;
            for (var j = 0; j < outputs; j++) planeGrad[index[o + j]] += dy[o + j];
        });
    }

    public void AverageForward(WindowPoolShape s, ArrayView<float> input, ArrayView<float> output)
    {
        Check(s, "HostWindowPoolOps.AverageForward", input, output);
        var x = HostView.Ptr(input);
        var y = HostView.Ptr(output);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var planeInput = x + (long)plane * s.H * s.W;
            var o = (long)plane * s.OutH * s.OutW;
            for (var oh = 0; oh < s.OutH; oh++)
            {
                var (h0, hEnd) = Clip(oh, s.SH, s.PH, s.KH, s.H);
                for (var ow = 0; ow < s.OutW; ow++, o++)
                {
                    var (w0, wEnd) = Clip(ow, s.SW, s.PW, s.KW, s.W);
                    var sum = 0f;
                    for (var h = h0; h < hEnd; h++)
                        for (var w = w0; w < wEnd; w++) sum += planeInput[h * s.W + w];
                    y[o] = sum / Divisor(s, oh, ow);
                }
            }
        });
    }

    public void AverageBackward(WindowPoolShape s, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        Check(s, "HostWindowPoolOps.AverageBackward", gradInput, gradOutput);
        var dy = HostView.Ptr(gradOutput);
        var dx = HostView.Ptr(gradInput);
        HostParallel.For(s.N * s.C, (_, plane) =>
        {
            var planeGrad = dx + (long)plane * s.H * s.W;
            new Span<float>(planeGrad, s.H * s.W).Clear();
            var o = (long)plane * s.OutH * s.OutW;
            for (var oh = 0; oh < s.OutH; oh++)
            {
                var (h0, hEnd) = Clip(oh, s.SH, s.PH, s.KH, s.H);
                for (var ow = 0; ow < s.OutW; ow++, o++)
                {
                    var (w0, wEnd) = Clip(ow, s.SW, s.PW, s.KW, s.W);
                    var share = dy[o] / Divisor(s, oh, ow);
                    for (var h = h0; h < hEnd; h++)
                        for (var w = w0; w < wEnd; w++) planeGrad[h * s.W + w] += share;
                }
            }
        });
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
