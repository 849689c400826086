using System.Buffers;
using System.Runtime.InteropServices;

namespace Pipeline.Inference.Onnx;

/// <summary>Tensor element types (<c>ONNXTensorElementDataType</c> in onnxruntime_c_api.h).</summary>
public enum OrtElementType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
}

/// <summary>
/// An ORT tensor (<c>OrtValue</c>) laid over managed memory without a copy: the memory is pinned for the tensor's
/// lifetime and ORT reads inputs from, and writes pre-allocated outputs into, the caller's buffer directly
/// (CreateTensorWithDataAsOrtValue). Dispose releases the OrtValue, then unpins.
/// </summary>
public sealed unsafe class OrtTensor : IDisposable
{
    private readonly OrtObjectHandle _value;
    private MemoryHandle _pin;
    private readonly long[] _shape;

    /// <summary>Element type of the tensor.</summary>
    public OrtElementType ElementType { get; }
    /// <summary>Shape of the tensor.</summary>
    public ReadOnlySpan<long> Shape => _shape;
    /// <summary>Number of elements.</summary>
    public long ElementCount { get; }
    /// <summary>Address of the first element (the caller's pinned buffer).</summary>
    public nint DataPointer => (nint)_pin.Pointer;

    internal nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_value.IsClosed, this);
            return _value.DangerousGetHandle();
        }
    }

    private OrtTensor(OrtObjectHandle value, MemoryHandle pin, long[] shape, OrtElementType type, long count)
    {
        _value = value; _pin = pin; _shape = shape; ElementType = type; ElementCount = count;
    }

    /// <summary>A float32 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor Create(OrtRuntime runtime, Memory<float> data, ReadOnlySpan<long> shape) => Create(runtime, data, shape, OrtElementType.Float);
    /// <summary>A float16 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor Create(OrtRuntime runtime, Memory<Half> data, ReadOnlySpan<long> shape) => Create(runtime, data, shape, OrtElementType.Float16);
    /// <summary>An int64 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor Create(OrtRuntime runtime, Memory<long> data, ReadOnlySpan<long> shape) => Create(runtime, data, shape, OrtElementType.Int64);
    /// <summary>An int32 tensor over <paramref name="data"/>.</summary>
    public static OrtTensor Create(OrtRuntime runtime, Memory<int> data, ReadOnlySpan<long> shape) => Create(runtime, data, shape, OrtElementType.Int32);

    private static OrtTensor Create<T>(OrtRuntime runtime, Memory<T> data, ReadOnlySpan<long> shape, OrtElementType type) where T : unmanaged
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new OrtShapeException($"Tensor shape [{string.Join(", ", shape.ToArray())}] has a negative dimension.");
            count = checked(count * d);
        }
        if (count != data.Length)
            throw new OrtShapeException($"Tensor shape [{string.Join(", ", shape.ToArray())}] needs {count} {type} elements but the buffer holds {data.Length}.");
        var shapeCopy = shape.ToArray();
        var pin = data.Pin();
        try
        {
            var api = runtime.Api;
            nint value;
            fixed (long* s = shapeCopy)
                api.Check(api.CreateTensorWithDataAsOrtValue(runtime.CpuMemoryInfo.DangerousGetHandle(), pin.Pointer,
                    (nuint)((long)data.Length * sizeof(T)), s, (nuint)shapeCopy.Length, (int)type, &value), "CreateTensorWithDataAsOrtValue");
            return new OrtTensor(new OrtObjectHandle(value, api.ReleaseValue), pin, shapeCopy, type, count);
        }
        catch
        {
            pin.Dispose();
            throw;
        }
    }

    /// <summary>Shape and element type as ORT sees them (GetTensorTypeAndShape): a check that ORT holds what was given.</summary>
    public (OrtElementType Type, long[] Shape, nint Data) Inspect(OrtRuntime runtime)
    {
        var api = runtime.Api;
        nint info;
        api.Check(api.GetTensorTypeAndShape(Handle, &info), "GetTensorTypeAndShape");
        try
        {
            var (type, dims, _) = OrtSession.ReadTensorInfo(api, info);
            void* data;
            api.Check(api.GetTensorMutableData(Handle, &data), "GetTensorMutableData");
            return (type, dims, (nint)data);
        }
        finally { api.ReleaseTensorTypeAndShapeInfo(info); }
    }

    public void Dispose()
    {
        _value.Dispose();
        _pin.Dispose();
        _pin = default;
    }
}
