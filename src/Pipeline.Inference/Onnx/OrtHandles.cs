using System.Runtime.InteropServices;

namespace Pipeline.Inference.Onnx;

/// <summary>
/// Owns one ORT object and releases it with its <c>Release*</c> function from the C API table exactly once, also
/// when the owner forgets to dispose it (SafeHandle finalisation). The runtime is kept alive by the reference.
/// </summary>
internal sealed unsafe class OrtObjectHandle : SafeHandle
{
    private readonly delegate* unmanaged<nint, void> _release;

    public OrtObjectHandle(nint handle, delegate* unmanaged<nint, void> release) : base(0, ownsHandle: true)
    {
        _release = release;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        _release(handle);
        return true;
    }
}
