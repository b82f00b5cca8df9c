using EnvNet.Kernels;

namespace EnvNet.Tests.References;

/// <summary>
/// Float64 max and average pooling by PyTorch's definitions, written over the padded input: a window covers padded
/// positions [o·S, o·S + K); positions in the padding are −∞ for max and zeros for average, whose divisor counts the
/// window's positions inside the padded input (count_include_pad=True). The output size is counted from the windows
/// themselves, not from <see cref="WindowPoolShape"/>'s formula: floor mode keeps the windows inside the padded input,
/// ceil mode every window that starts before the padded input's last stride and inside the input or its left padding.
/// </summary>
public static class WindowPoolReference
{
    public static (int OutH, int OutW) OutputSize(WindowPoolShape s) =>
        (Windows(s.H, s.KH, s.SH, s.PH, s.CeilMode), Windows(s.W, s.KW, s.SW, s.PW, s.CeilMode));

    private static int Windows(int size, int kernel, int stride, int pad, bool ceilMode)
    {
        var padded = size + 2 * pad;
        var count = 0;
        while (ceilMode
                   ? count * stride < padded - kernel + stride && count * stride < size + pad
                   : count * stride + kernel <= padded)
            count++;
        return count;
    }

    /// <summary>The first maximum in row-major order (NaN wins) and its index h·W + w in the (n, c) plane.</summary>
    public static (double[] Output, int[] Argmax) MaxForward(WindowPoolShape s, float[] input)
    {
        var output = new double[s.OutputLength];
        var argmax = new int[s.OutputLength];
        ForEachWindow(s, (plane, o, positions) =>
        {
            var (best, bestValue) = (-1, double.NegativeInfinity);
            foreach (var p in positions)
            {
                double value = input[(long)plane * s.H * s.W + p];
                if (best < 0 || value > bestValue || double.IsNaN(value)) (best, bestValue) = (p, value);
            }
            (output[o], argmax[o]) = (bestValue, best);
        });
        return (output, argmax);
    }

    public static double[] MaxBackward(WindowPoolShape s, float[] gradOutput, int[] argmax)
    {
        var gradInput = new double[s.InputLength];
        for (long o = 0; o < s.OutputLength; o++)
            gradInput[o / ((long)s.OutH * s.OutW) * s.H * s.W + argmax[o]] += gradOutput[o];
        return gradInput;
    }

    public static double[] AverageForward(WindowPoolShape s, float[] input)
    {
        var output = new double[s.OutputLength];
        ForEachWindow(s, (plane, o, positions) =>
            output[o] = positions.Sum(p => (double)input[(long)plane * s.H * s.W + p]) / Divisor(s, o));
        return output;
    }

    public static double[] AverageBackward(WindowPoolShape s, float[] gradOutput)
    {
        var gradInput = new double[s.InputLength];
        ForEachWindow(s, (plane, o, positions) =>
        {
            foreach (var p in positions) gradInput[(long)plane * s.H * s.W + p] += gradOutput[o] / Divisor(s, o);
        });
        return gradInput;
    }

    /// <summary>Positions of the window inside the padded input (padded coordinates below H + 2·PH, W + 2·PW).</summary>
    private static double Divisor(WindowPoolShape s, long o)
    {
        var oh = (int)(o / s.OutW % s.OutH);
        var ow = (int)(o % s.OutW);
        var rows = Enumerable.Range(oh * s.SH, s.KH).Count(h => h < s.H + 2 * s.PH);
        var columns = Enumerable.Range(ow * s.SW, s.KW).Count(w => w < s.W + 2 * s.PW);
        return rows * columns;
    }

    /// <summary>Calls <paramref name="window"/> with the plane, the flat output index and the input positions
    /// h·W + w the window covers (padding left out), in row-major order.</summary>
    private static void ForEachWindow(WindowPoolShape s, Action<int, long, List<int>> window)
    {
        if (OutputSize(s) != (s.OutH, s.OutW))
            throw new InvalidOperationException($"WindowPoolShape says {s.OutH}x{s.OutW} outputs, the windows are {OutputSize(s)}.");
        for (var plane = 0; plane < s.N * s.C; plane++)
        for (var oh = 0; oh < s.OutH; oh++)
        for (var ow = 0; ow < s.OutW; ow++)
        {
            var positions = new List<int>();
            for (var ph = oh * s.SH; ph < oh * s.SH + s.KH; ph++)
            for (var pw = ow * s.SW; pw < ow * s.SW + s.KW; pw++)
            {
                var (h, w) = (ph - s.PH, pw - s.PW);
                if (h >= 0 && h < s.H && w >= 0 && w < s.W) positions.Add(h * s.W + w);
            }
            window(plane, ((long)plane * s.OutH + oh) * s.OutW + ow, positions);
        }
    }
}
