using System.Buffers;
using System.Runtime.InteropServices;

namespace Pipeline.Imaging.Buffers;

/// <summary>The element type of one sample.</summary>
public enum PixelType
{
    UInt8,
    UInt16,
    Float32,
}

/// <summary>
/// An explicit pixel container: width x height x channels samples of one <see cref="PixelType"/>, row-major,
/// channels interleaved, rows packed (no padding), over memory rented from the shared array pool.
/// No hidden copies: <see cref="Pixels{T}"/> is a view; every conversion is a named method that returns a new buffer.
/// Dispose returns the memory to the pool.
/// </summary>
public sealed class ImageBuffer : IDisposable
{
    private byte[]? _array;

    private ImageBuffer(int width, int height, int channels, PixelType type, byte[] array)
    {
        Width = width; Height = height; Channels = channels; PixelType = type; _array = array;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public PixelType PixelType { get; }

    /// <summary>Bytes per sample: 1, 2 or 4.</summary>
    public int BytesPerSample => SizeOf(PixelType);

    /// <summary>Samples per row (width x channels).</summary>
    public int RowLength => Width * Channels;

    /// <summary>Total number of samples.</summary>
    public int Length => Width * Height * Channels;

    /// <summary>Total bytes of pixel data.</summary>
    public int ByteLength => Length * BytesPerSample;

    public static int SizeOf(PixelType type) => type switch
    {
        PixelType.UInt8 => 1,
        PixelType.UInt16 => 2,
        PixelType.Float32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown pixel type"),
    };

    public static PixelType TypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(byte) ? PixelType.UInt8 :
        typeof(T) == typeof(ushort) ? PixelType.UInt16 :
        typeof(T) == typeof(float) ? PixelType.Float32 :
        throw new NotSupportedException($"ImageBuffer holds byte, ushort or float samples, not {typeof(T).Name}.");

    /// <summary>Allocates a zero-filled buffer.</summary>
    public static ImageBuffer Create(int width, int height, int channels, PixelType type)
    {
        var buffer = CreateForOverwrite(width, height, channels, type);
        buffer.Bytes.Clear();
        return buffer;
    }

    /// <summary><see cref="Create"/> without clearing the memory, for a caller that writes every sample before it
    /// returns the buffer (a pooled array holds whatever its last user left).</summary>
    internal static ImageBuffer CreateForOverwrite(int width, int height, int channels, PixelType type)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), $"channels must be 1..4, got {channels}");
        long bytes = (long)width * height * channels * SizeOf(type);
        if (bytes > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(width), $"image of {width}x{height}x{channels} is too large ({bytes} bytes)");
        return new ImageBuffer(width, height, channels, type, ArrayPool<byte>.Shared.Rent((int)bytes));
    }

    /// <summary>Allocates a buffer and copies <paramref name="samples"/> into it.</summary>
    public static ImageBuffer FromSamples<T>(int width, int height, int channels, ReadOnlySpan<T> samples) where T : unmanaged
    {
        var buffer = Create(width, height, channels, TypeOf<T>());
        if (samples.Length != buffer.Length)
            throw new ArgumentException($"expected {buffer.Length} samples for {width}x{height}x{channels}, got {samples.Length}", nameof(samples));
        samples.CopyTo(buffer.Pixels<T>());
        return buffer;
    }

    /// <summary>The raw bytes (little-endian samples).</summary>
    public Span<byte> Bytes => Live().AsSpan(0, ByteLength);

    /// <summary>A typed view of all samples; T must match <see cref="PixelType"/>.</summary>
    public Span<T> Pixels<T>() where T : unmanaged
    {
        if (TypeOf<T>() != PixelType)
            throw new InvalidOperationException($"buffer holds {PixelType} samples; asked for {typeof(T).Name}");
        return MemoryMarshal.Cast<byte, T>(Bytes);
    }

    /// <summary>A typed view of one row.</summary>
    public Span<T> Row<T>(int y) where T : unmanaged
    {
        if ((uint)y >= (uint)Height) throw new ArgumentOutOfRangeException(nameof(y), $"row {y} outside 0..{Height - 1}");
        return Pixels<T>().Slice(y * RowLength, RowLength);
    }

    /// <summary>An exact copy in a new buffer.</summary>
    public ImageBuffer Clone()
    {
        var copy = CreateForOverwrite(Width, Height, Channels, PixelType);
        Bytes.CopyTo(copy.Bytes);
        return copy;
    }

    /// <summary>Samples as float32 without rescaling (65535 stays 65535.0).</summary>
    public ImageBuffer ToFloat32()
    {
        var result = CreateForOverwrite(Width, Height, Channels, PixelType.Float32);
        var dst = result.Pixels<float>();
        switch (PixelType)
        {
            case PixelType.UInt8: { var s = Pixels<byte>(); for (int i = 0; i < s.Length; i++) dst[i] = s[i]; break; }
            case PixelType.UInt16: { var s = Pixels<ushort>(); for (int i = 0; i < s.Length; i++) dst[i] = s[i]; break; }
            default: Pixels<float>().CopyTo(dst); break;
        }
        return result;
    }

    /// <summary>The samples of the rectangle [left, left + width) x [top, top + height) as float32 without rescaling,
    /// row-major, channels interleaved: what <see cref="ToFloat32"/> holds there, without converting the whole image.</summary>
    public float[] WindowToFloat32(int left, int top, int width, int height)
    {
        if (left < 0 || top < 0 || width < 0 || height < 0 || left + width > Width || top + height > Height)
            throw new ArgumentOutOfRangeException(nameof(left), $"window {width}x{height} at ({left}, {top}) is outside the {Width}x{Height} image");
        int n = width * Channels;
        var result = new float[n * height];
        for (int y = 0; y < height; y++)
        {
            var dst = result.AsSpan(y * n, n);
            switch (PixelType)
            {
                case PixelType.UInt8: { var s = Row<byte>(top + y).Slice(left * Channels, n); for (int i = 0; i < n; i++) dst[i] = s[i]; break; }
                case PixelType.UInt16: { var s = Row<ushort>(top + y).Slice(left * Channels, n); for (int i = 0; i < n; i++) dst[i] = s[i]; break; }
                default: Row<float>(top + y).Slice(left * Channels, n).CopyTo(dst); break;
            }
        }
        return result;
    }

    /// <summary>
    /// Samples as float32 scaled to [0, 1] by the type's full scale (UInt8 / 255, UInt16 / 65535; Float32 copied as is):
    /// the display space of docs/preprocessing.md for plain 8/16-bit images that carry no VOI.
    /// </summary>
    public ImageBuffer ToUnitFloat32()
    {
        var result = ToFloat32();
        float max = PixelType switch { PixelType.UInt8 => 255f, PixelType.UInt16 => 65535f, _ => 1f };
        // a correctly rounded division, so 51 -> 0.2f exactly as numpy's a / 255 gives
        if (max != 1f) System.Numerics.Tensors.TensorPrimitives.Divide(result.Pixels<float>(), max, result.Pixels<float>());
        return result;
    }

    /// <summary>One channel of an interleaved buffer as a new single-channel buffer of the same type.</summary>
    public ImageBuffer ExtractChannel(int channel)
    {
        if ((uint)channel >= (uint)Channels) throw new ArgumentOutOfRangeException(nameof(channel), $"channel {channel} outside 0..{Channels - 1} of {this}");
        var result = Create(Width, Height, 1, PixelType);
        int size = BytesPerSample, stride = Channels * size;
        var src = Bytes;
        var dst = result.Bytes;
        for (int i = 0, o = channel * size; i < dst.Length; i += size, o += stride) src.Slice(o, size).CopyTo(dst.Slice(i, size));
        return result;
    }

    /// <summary>Float32 samples rounded half-to-even and clamped into <paramref name="target"/>'s range.</summary>
    public ImageBuffer ToInteger(PixelType target)
    {
        if (target == PixelType.Float32) return ToFloat32();
        var src = PixelType == PixelType.Float32 ? this : null;
        using var tmp = src is null ? ToFloat32() : null;
        var f = (src ?? tmp!).Pixels<float>();
        var result = Create(Width, Height, Channels, target);
        if (target == PixelType.UInt8)
        {
            var d = result.Pixels<byte>();
            for (int i = 0; i < f.Length; i++) d[i] = (byte)Math.Clamp(MathF.Round(f[i]), 0f, 255f);
        }
        else
        {
            var d = result.Pixels<ushort>();
            for (int i = 0; i < f.Length; i++) d[i] = (ushort)Math.Clamp(MathF.Round(f[i]), 0f, 65535f);
        }
        return result;
    }

    private byte[] Live() => _array ?? throw new ObjectDisposedException(nameof(ImageBuffer));

    public void Dispose()
    {
        var a = Interlocked.Exchange(ref _array, null);
        if (a != null) ArrayPool<byte>.Shared.Return(a);
    }

    public override string ToString() => $"ImageBuffer {Width}x{Height}x{Channels} {PixelType}";
}
