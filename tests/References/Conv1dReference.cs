using EnvNet.Kernels;

namespace EnvNet.Tests.References;

/// <summary>Float64 1-D convolution with bias by the definition, looping over outputs; the backward passes scatter from
/// each output into what it read (the kernels gather instead). Padding is read from the explicit left and right
/// counts, so padding="same" with an even kernel checks where the extra zero goes.</summary>
public static class Conv1dReference
{
    /// <summary>y[n,co,o] = b[co] + Σ x·w; <paramref name="bias"/> null for a layer without bias.</summary>
    public static double[] Forward(Conv1dShape s, float[] input, float[] weight, float[]? bias)
    {
        var output = new double[s.OutputLength];
        for (long o = 0; o < output.Length; o++) output[o] = bias is null ? 0 : bias[o / s.OutL % s.Cout];
        ForEachTerm(s, (o, x, w) => output[o] += (double)input[x] * weight[w]);
        return output;
    }

    public static double[] BackwardInput(Conv1dShape s, float[] gradOutput, float[] weight)
    {
        var gradInput = new double[s.InputLength];
        ForEachTerm(s, (o, x, w) => gradInput[x] += (double)gradOutput[o] * weight[w]);
        return gradInput;
    }

    public static double[] BackwardWeight(Conv1dShape s, float[] input, float[] gradOutput)
    {
        var gradWeight = new double[s.WeightLength];
        ForEachTerm(s, (o, x, w) => gradWeight[w] += (double)gradOutput[o] * input[x]);
        return gradWeight;
    }

    /// <summary>db[co] = Σ_{n,o} dy[n,co,o].</summary>
    public static double[] BackwardBias(Conv1dShape s, float[] gradOutput)
    {
        var gradBias = new double[s.Cout];
        for (long o = 0; o < s.OutputLength; o++) gradBias[o / s.OutL % s.Cout] += gradOutput[o];
        return gradBias;
    }

    /// <summary>Visits every (output, input, weight) index triple of a product term; taps in the padding have none.
    /// The output count is checked against the padded length independently of <see cref="Conv1dShape.OutL"/>.</summary>
    private static void ForEachTerm(Conv1dShape s, Action<long, long, long> term)
    {
        var paddedLength = s.PadLeft + s.L + s.PadRight;
        var outputs = 0;
        while (outputs * s.S + s.K <= paddedLength) outputs++;
        if (outputs != s.OutL) throw new InvalidOperationException($"Conv1dShape.OutL {s.OutL}, windows that fit {outputs}.");
        for (var n = 0; n < s.N; n++)
        for (var co = 0; co < s.Cout; co++)
        for (var o = 0; o < outputs; o++)
        for (var ci = 0; ci < s.Cin; ci++)
        for (var k = 0; k < s.K; k++)
        {
            var position = o * s.S + k - s.PadLeft;
            if (position < 0 || position >= s.L) continue;
            term(((long)n * s.Cout + co) * s.OutL + o, ((long)n * s.Cin + ci) * s.L + position, ((long)co * s.Cin + ci) * s.K + k);
        }
    }
}
