using ILGPU;

namespace EnvNet.Kernels.Host;

/// <summary>
/// Copies between a tensor plane and a run of a "virtual grid": positions f = r·pitch + c of a grid whose (r, c) is
/// the plane's (r − rowOffset, c·stride + phase − colOffset), zero outside the plane. One mapping covers zero padding,
/// stride phases and the wider pitch of flattened positions.
/// </summary>
internal static unsafe class HostWindow
{
    /// <summary>dst[i] = grid(f0 + i) for i &lt; length.</summary>
    public static void Gather(float* dst, int length, long f0, int pitch, float* src, int rows, int cols,
        int rowOffset, int colOffset, int stride, int phase)
    {
        var i = 0;
        while (i < length)
        {
            var f = f0 + i;
            var (r, c) = ((int)(f / pitch), (int)(f % pitch));
            var run = Math.Min(length - i, pitch - c);
            var row = r - rowOffset;
            if (row < 0 || row >= rows)
            {
                new Span<float>(dst + i, run).Clear();
            }
            else if (stride == 1)
            {
                // Grid columns c..c+run−1 are plane columns c − colOffset.., valid in [0, cols).
                var first = c - colOffset;
                var lo = Math.Clamp(-first, 0, run);
                var hi = Math.Clamp(cols - first, lo, run);
                new Span<float>(dst + i, lo).Clear();
                new ReadOnlySpan<float>(src + (long)row * cols + first + lo, hi - lo).CopyTo(new Span<float>(dst + i + lo, hi - lo));
                new Span<float>(dst + i + hi, run - hi).Clear();
            }
            else
            {
                var line = src + (long)row * cols;
                for (var j = 0; j < run; j++)
                {
                    var column = (c + j) * stride + phase - colOffset;
                    dst[i + j] = column >= 0 && column < cols ? line[column] : 0f;
                }
            }
            i += run;
        }
    }

    /// <summary>plane(grid position f0 + i) = src[i] for i &lt; length, where the grid position lies on the plane.</summary>
    public static void Scatter(float* src, int length, long f0, int pitch, float* dst, int rows, int cols,
        int rowOffset, int colOffset, int stride, int phase)
    {
        var i = 0;
        while (i < length)
        {
            var f = f0 + i;
            var (r, c) = ((int)(f / pitch), (int)(f % pitch));
            var run = Math.Min(length - i, pitch - c);
            var row = r - rowOffset;
            if (row >= 0 && row < rows)
            {
                if (stride == 1)
                {
                    var first = c - colOffset;
                    var lo = Math.Clamp(-first, 0, run);
                    var hi = Math.Clamp(cols - first, lo, run);
                    new ReadOnlySpan<float>(src + i + lo, hi - lo).CopyTo(new Span<float>(dst + (long)row * cols + first + lo, hi - lo));
                }
                else
                {
                    var line = dst + (long)row * cols;
                    for (var j = 0; j < run; j++)
                    {
                        var column = (c + j) * stride + phase - colOffset;
                        if (column >= 0 && column < cols) line[column] = src[i + j];
                    }
                }
            }
            i += run;
        }
    }
}
