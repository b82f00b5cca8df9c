using System.Runtime.Intrinsics;
using EnvNet.Kernels.Host;

namespace EnvNet.Tests;

/// <summary>
/// The host GEMM (<see cref="HostGemm{TSimd, TVector}"/>) against a float64 product at every vector width: row- and
/// column-major operands, edge tiles, depths of several <see cref="HostGemm{TSimd, TVector}.KC"/> slices, C narrower
/// than one column block (split into row chunks) and wider than several, overwrite and accumulate. Each element is a
/// chain of k fused multiply-adds plus one addition per KC slice (and the accumulated C): |error| ≤ (k + k/KC + 2)·u·Σ|terms|.
/// </summary>
[TestClass]
public sealed unsafe class HostGemmTests
{
    [TestMethod]
    [DataRow(VectorWidth.Bits128)]
    [DataRow(VectorWidth.Bits256)]
    [DataRow(VectorWidth.Bits512)]
    public void MultiplyMatchesFloat64Reference(VectorWidth width)
    {
        foreach (var (m, n, k, columnMajorB, accumulate) in new[]
                 {
                     (9, 4, 300, false, false),    // one column block: three row chunks of one panel
                     (37, 200, 600, true, true),   // several blocks, column-major B, accumulated
                     (130, 50, 257, false, true),  // one block, many panels in chunks, a one-deep last slice
                     (3, 7, 5, false, false),      // smaller than one tile
                 })
        {
            var rng = new Random(m * 7919 + n * 31 + k);
            var a = TestData.Uniform(rng, m * k);
            var b = TestData.Uniform(rng, k * n);
            var c0 = TestData.Uniform(rng, m * n);
            var c = width switch
            {
                VectorWidth.Bits128 => Run<Simd128, Vector128<float>>(m, n, k, a, b, c0, columnMajorB, accumulate),
                VectorWidth.Bits256 => Run<Simd256, Vector256<float>>(m, n, k, a, b, c0, columnMajorB, accumulate),
                _ => Run<Simd512, Vector512<float>>(m, n, k, a, b, c0, columnMajorB, accumulate),
            };
            var expected = new double[m * n];
            var terms = new double[m * n];
            for (var i = 0; i < m; i++)
                for (var j = 0; j < n; j++)
                {
                    double sum = accumulate ? c0[i * n + j] : 0, scale = accumulate ? Math.Abs(c0[i * n + j]) : 0;
                    for (var kk = 0; kk < k; kk++)
                    {
                        var product = (double)a[i * k + kk] * b[kk * n + j];
                        (sum, scale) = (sum + product, scale + Math.Abs(product));
                    }
                    (expected[i * n + j], terms[i * n + j]) = (sum, scale);
                }
            var roundings = k + k / HostGemm<Simd128, Vector128<float>>.KC + 2;
            KernelCheck.AssertClose($"HostGemm {m}x{n}x{k} column-major B {columnMajorB} accumulate {accumulate} {width}", expected, c,
                i => roundings * KernelCheck.Float32Roundoff * terms[i]);
        }
    }

    /// <summary>C = A·B (or C += A·B) with A row-major m×k and B k×n, row-major or stored column-major.</summary>
    private static float[] Run<TSimd, TVector>(int m, int n, int k, float[] a, float[] b, float[] c0, bool columnMajorB, bool accumulate)
        where TSimd : ISimd<TVector> where TVector : unmanaged
    {
        var stored = columnMajorB ? Enumerable.Range(0, k * n).Select(e => b[e % k * n + e / k]).ToArray() : b;
        var c = accumulate ? (float[])c0.Clone() : Enumerable.Repeat(float.NaN, m * n).ToArray();
        using var packed = new HostBuffer<float>(HostGemm<TSimd, TVector>.PackedALength(m, k));
        using var scratch = new HostBuffer<float>((long)HostParallel.Workers * HostGemm<TSimd, TVector>.WorkerScratchLength);
        fixed (float* pa = a, pb = stored, pc = c)
            HostGemm<TSimd, TVector>.Multiply(m, n, k, pa, k, 1, pb, columnMajorB ? 1 : n, columnMajorB ? k : 1, pc, n,
                packed.Ptr, scratch.Ptr, accumulate);
        return c;
    }
}
