using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace EnvNet.Kernels.Host;

/// <summary>
/// Host access to buffers of ILGPU's CPU accelerator: they are plain host memory, so a view's effective address is a
/// host pointer the host kernels read and write directly. Kernel launches and copies on the CPU accelerator finish
/// before they return, so host code and ILGPU kernels can follow each other on the same buffers without a
/// synchronisation in between.
/// </summary>
internal static unsafe class HostView
{
    public static T* Ptr<T>(ArrayView<T> view) where T : unmanaged =>
        view.Length == 0 ? null : (T*)view.LoadEffectiveAddressAsPtr();

    public static Span<T> Span<T>(ArrayView<T> view) where T : unmanaged => new(Ptr(view), checked((int)view.Length));
}
