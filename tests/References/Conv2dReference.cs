using EnvNet.Kernels;

namespace EnvNet.Tests.References;

/// <summary>Float64 convolution by the definition, looping over outputs. The backward passes scatter from each output
/// into what it read (the kernels gather instead), so stride and padding are handled by independent code.</summary>
public static class Conv2dReference
{
    public static double[] Forward(Conv2dShape s, float[] input, float[] weight)
    {
        var output = new double[s.OutputLength];
        ForEachTerm(s, (o, x, w) => output[o] += (double)input[x] * weight[w]);
        return output;
    }

    public static double[] BackwardInput(Conv2dShape s, float[] gradOutput, float[] weight)
    {
        var gradInput = new double[s.InputLength];
        ForEachTerm(s, (o, x, w) => gradInput[x] += (double)gradOutput[o] * weight[w]);
        return gradInput;
    }

    public static double[] BackwardWeight(Conv2dShape s, float[] input, float[] gradOutput)
    {
        var gradWeight = new double[s.WeightLength];
        ForEachTerm(s, (o, x, w) => gradWeight[w] += (double)gradOutput[o] * input[x]);
        return gradWeight;
    }

    /// <summary>Visits every (output, input, weight) index triple of a product term y[o] += x[x]·w[w]; taps that
    /// fall into the zero padding have no term.</summary>
    private static void ForEachTerm(Conv2dShape s, Action<long, long, long> term)
    {
        for (var n = 0; n < s.N; n++)
        for (var co = 0; co < s.Cout; co++)
        for (var oh = 0; oh < s.OutH; oh++)
        for (var ow = 0; ow < s.OutW; ow++)
        {
            var o = (((long)n * s.Cout + co) * s.OutH + oh) * s.OutW + ow;
            for (var ci = 0; ci < s.Cin; ci++)
            for (var kh = 0; kh < s.KH; kh++)
            for (var kw = 0; kw < s.KW; kw++)
            {
                var ih = oh * s.SH - s.PH + kh;
                var iw = ow * s.SW - s.PW + kw;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                term(o, (((long)n * s.Cin + ci) * s.H + ih) * s.W + iw, (((long)co * s.Cin + ci) * s.KH + kh) * s.KW + kw);
            }
        }
    }
}
