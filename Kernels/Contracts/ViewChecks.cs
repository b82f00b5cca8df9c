using ILGPU;

namespace EnvNet.Kernels;

/// <summary>Host-side argument checks shared by the *Ops launchers: a kernel reads and writes without bounds checks
/// on the GPU, so a view that is too short must be caught before the launch, with the operation and view named.</summary>
internal static class ViewChecks
{
    public static void RequireLength<T>(ArrayView<T> view, long needed, string operation, string name)
        where T : unmanaged
    {
        if (view.Length < needed)
            throw new ArgumentException(
                $"{operation}: view '{name}' has {view.Length} elements, the shape needs {needed}.", name);
    }

    /// <summary>Kernels compute flat indices in 32 bits (cheaper on GPUs); a tensor of more elements needs a smaller batch.</summary>
    public static void RequireIndexable(long elements, string operation)
    {
        if (elements > int.MaxValue)
            throw new ArgumentException(
                $"{operation}: a tensor of {elements} elements exceeds the kernels' 32-bit indexing; use a smaller batch.");
    }
}

/// <summary>Kahan-compensated float sum: the long reductions (over a batch's positions) stay within a few float
/// roundings of the exact sum without doubles, which are slow on most GPUs. Neither the .NET JIT nor ILGPU's PTX/OpenCL
/// backends reassociate float additions, so the compensation term survives compilation.</summary>
internal struct CompensatedSum
{
    private float _sum;
    private float _compensation;

    public readonly float Value => _sum;

    public void Add(float value)
    {
        var corrected = value - _compensation;
        var next = _sum + corrected;
        _compensation = (next - _sum) - corrected;
        _sum = next;
    }
}
