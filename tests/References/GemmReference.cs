namespace EnvNet.Tests.References;

/// <summary>C = op(A)·op(B) in float64 on the CPU, with the storage conventions of <c>GemmShape</c>.</summary>
public static class GemmReference
{
    public static double[] Multiply(float[] a, float[] b, int m, int n, int k, bool transposeA, bool transposeB) =>
        Evaluate(a, b, m, n, k, transposeA, transposeB, (x, y) => x * y);

    /// <summary>Σ_k |op(A)[i,k]·op(B)[k,j]|: the scale of the rounding error of a float32 dot product.</summary>
    public static double[] AbsoluteProducts(float[] a, float[] b, int m, int n, int k, bool transposeA, bool transposeB) =>
        Evaluate(a, b, m, n, k, transposeA, transposeB, (x, y) => Math.Abs(x * y));

    private static double[] Evaluate(float[] a, float[] b, int m, int n, int k, bool transposeA, bool transposeB,
        Func<double, double, double> term)
    {
        var c = new double[m * n];
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var p = 0; p < k; p++)
                {
                    double av = transposeA ? a[p * m + i] : a[i * k + p];
                    double bv = transposeB ? b[j * k + p] : b[p * n + j];
                    sum += term(av, bv);
                }
                c[i * n + j] = sum;
            }
        return c;
    }
}
