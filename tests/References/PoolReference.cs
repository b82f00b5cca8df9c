using EnvNet.Kernels;

namespace EnvNet.Tests.References;

/// <summary>Float64 references of the pooling-side layers: MaxPool2d (kernel = stride, floor mode) and the axis-1/2
/// transpose that follows EnvNet's pool2.</summary>
public static class PoolReference
{
    /// <summary>PyTorch's max_pool2d_with_indices: the first maximum of each window in row-major order, NaN wins;
    /// indices are h·W + w within the (n, c) plane.</summary>
    public static (double[] Output, int[] Argmax) MaxPoolForward(MaxPool2dShape s, float[] input)
    {
        var output = new double[s.OutputLength];
        var argmax = new int[s.OutputLength];
        for (var plane = 0; plane < s.N * s.C; plane++)
        for (var oh = 0; oh < s.OutH; oh++)
        for (var ow = 0; ow < s.OutW; ow++)
        {
            var best = -1;
            var bestValue = double.NegativeInfinity;
            for (var h = oh * s.KH; h < (oh + 1) * s.KH; h++)
            for (var w = ow * s.KW; w < (ow + 1) * s.KW; w++)
            {
                double value = input[(long)plane * s.H * s.W + h * s.W + w];
                if (best < 0 || value > bestValue || double.IsNaN(value)) (best, bestValue) = (h * s.W + w, value);
            }
            var o = ((long)plane * s.OutH + oh) * s.OutW + ow;
            (output[o], argmax[o]) = (bestValue, best);
        }
        return (output, argmax);
    }

    /// <summary>dy scattered to each window's argmax; elements no window chose (and floor-mode leftovers) get 0.</summary>
    public static double[] MaxPoolBackward(MaxPool2dShape s, float[] gradOutput, int[] argmax)
    {
        var gradInput = new double[s.InputLength];
        for (long o = 0; o < s.OutputLength; o++)
        {
            var plane = o / ((long)s.OutH * s.OutW);
            gradInput[plane * s.H * s.W + argmax[o]] += gradOutput[o];
        }
        return gradInput;
    }

    /// <summary>[N, A, B, W] → [N, B, A, W].</summary>
    public static double[] Transpose12(TransposeShape s, float[] input)
    {
        var output = new double[s.Length];
        for (var n = 0; n < s.N; n++)
        for (var a = 0; a < s.A; a++)
        for (var b = 0; b < s.B; b++)
        for (var w = 0; w < s.W; w++)
            output[(((long)n * s.B + b) * s.A + a) * s.W + w] = input[(((long)n * s.A + a) * s.B + b) * s.W + w];
        return output;
    }
}
