using System.Buffers.Binary;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>Options for <see cref="DicomImage"/> reads.</summary>
public sealed class DicomImageReadOptions
{
    /// <summary>Reject "FOR PROCESSING" images with <see cref="DicomForProcessingException"/> (default), as VinDr's converter skips them.</summary>
    public bool SkipForProcessing { get; set; } = true;

    /// <summary>Frame to decode from a multi-frame image.</summary>
    public int FrameIndex { get; set; }

    /// <summary>Longest a native (GDCM) decode may run before the read fails; corrupt codestreams can spin.</summary>
    public TimeSpan NativeDecodeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Limits of the managed pre-parse.</summary>
    public DicomReadOptions Parse { get; set; } = new();

    /// <summary>Size limits checked against the header before any pixel data is decoded or allocated.</summary>
    public DicomPixelLimits Limits { get; set; } = new();
}

/// <summary>A "FOR PROCESSING" image was read while <see cref="DicomImageReadOptions.SkipForProcessing"/> is set.</summary>
public sealed class DicomForProcessingException(string item)
    : DicomException(item, "Presentation Intent Type is FOR PROCESSING (raw detector data, not for display); skipped. Set SkipForProcessing = false to read it anyway.");

/// <summary>
/// A decoded image: the parsed file, its typed attributes and the stored pixel values of one frame.
/// <see cref="Stored"/> holds UInt8 for 8-bit data (RGB interleaved for colour, YBR converted), UInt16 for unsigned
/// 9-16-bit data, and Float32 for signed or 32-bit data (exact for 16-bit signed values). Bits above Bits Stored are
/// masked off and signed values sign-extended from the High Bit (PS3.5 section 8.1.1).
/// </summary>
public sealed class DicomImage : IDisposable
{
    private DicomImage(DicomFile file, DicomImageAttributes attributes, ImageBuffer stored)
    {
        File = file; Attributes = attributes; Stored = stored;
    }

    public DicomFile File { get; }
    public DicomImageAttributes Attributes { get; }
    public ImageBuffer Stored { get; }

    public void Dispose() => Stored.Dispose();

    public static DicomImage Open(string path, DicomImageReadOptions? options = null)
    {
        byte[] bytes;
        try { bytes = System.IO.File.ReadAllBytes(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new DicomException(path, "cannot read the file: " + ex.Message, ex); }
        return Read(bytes, path, options);
    }

    /// <summary>
    /// Parses with the managed reader (which bounds-checks everything), decodes native pixel data and RLE in managed code
    /// and the JPEG family (baseline, extended, lossless, JPEG-LS, JPEG 2000) with GDCM after checking its fragments are present.
    /// </summary>
    public static DicomImage Read(ReadOnlyMemory<byte> bytes, string item, DicomImageReadOptions? options = null)
    {
        options ??= new DicomImageReadOptions();
        var file = DicomFile.Read(bytes, item, options.Parse);
        var attributes = DicomImageAttributes.From(file);
        options.Limits.Check(item, attributes.Rows, attributes.Columns, attributes.SamplesPerPixel, attributes.NumberOfFrames, attributes.BitsAllocated);
        if (options.SkipForProcessing && attributes.IsForProcessing) throw new DicomForProcessingException(item);
        if (options.FrameIndex < 0 || options.FrameIndex >= attributes.NumberOfFrames)
            throw new DicomException(item, $"frame {options.FrameIndex} requested but the image has {attributes.NumberOfFrames}");
        var pixel = file.Dataset[DicomTag.PixelData] ?? throw new DicomException(item, "no Pixel Data (7FE0,0010)");
        ImageBuffer stored = pixel.IsEncapsulated && file.TransferSyntax.Uid == TransferSyntax.RleLossless.Uid
            ? RleDecoder.Decode(pixel, item, attributes, options.FrameIndex)
            : pixel.IsEncapsulated
            ? GdcmPixelDecoder.Decode(bytes, file, attributes, options.FrameIndex, options.NativeDecodeTimeout)
            : DecodeNative(pixel.Data.Span, item, attributes, options.FrameIndex);
        return new DicomImage(file, attributes, stored);
    }

    /// <summary>Native (uncompressed) pixel data, already little-endian after the reader (PS3.5 section 8.1 and annex D).</summary>
    internal static ImageBuffer DecodeNative(ReadOnlySpan<byte> data, string item, DicomImageAttributes a, int frame)
    {
        int samples = a.Rows * a.Columns * a.SamplesPerPixel;
        int bytesPer = a.BitsAllocated / 8;
        long frameBytes = (long)samples * bytesPer;
        long needed = frameBytes * (frame + 1);
        if (data.Length < needed)
            throw new DicomException(item, $"Pixel Data holds {data.Length} bytes; {a.Columns}x{a.Rows}x{a.SamplesPerPixel} at {a.BitsAllocated} bits needs {frameBytes} per frame (truncated?)");
        var src = data.Slice((int)(frameBytes * frame), (int)frameBytes);
        return FromRaw(src, item, a, a.PlanarConfiguration == 1 && a.SamplesPerPixel == 3);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Unpack16(ReadOnlySpan<byte> src, Span<ushort> dst, ushort mask)
    {
        var s = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(src[..(dst.Length * 2)]);
        if (!BitConverter.IsLittleEndian) { for (int i = 0; i < dst.Length; i++) dst[i] = (ushort)(BinaryPrimitives.ReverseEndianness(s[i]) & mask); return; }
        for (int i = 0; i < dst.Length; i++) dst[i] = (ushort)(s[i] & mask);
    }

    /// <summary>Turns one frame of raw little-endian samples into a buffer (masking, sign extension, planar to interleaved, YBR to RGB).</summary>
    internal static ImageBuffer FromRaw(ReadOnlySpan<byte> src, string item, DicomImageAttributes a, bool planar, string? photometricOverride = null)
    {
        int w = a.Columns, h = a.Rows, c = a.SamplesPerPixel, n = w * h * c;
        string photometric = photometricOverride ?? a.PhotometricInterpretation;
        if (a.BitsAllocated == 8 && !a.IsSigned)
        {
            var buf = ImageBuffer.Create(w, h, c, PixelType.UInt8);
            var dst = buf.Pixels<byte>();
            if (planar) { int plane = w * h; for (int i = 0; i < plane; i++) for (int k = 0; k < c; k++) dst[i * c + k] = src[k * plane + i]; }
            else src[..n].CopyTo(dst);
            if (a.BitsStored < 8) { byte mask = (byte)((1 << a.BitsStored) - 1); for (int i = 0; i < n; i++) dst[i] &= mask; }
            if (c == 3 && photometric.StartsWith("YBR_FULL", StringComparison.Ordinal)) YbrFullToRgb(dst);
            else if (c == 3 && photometric != "RGB") { buf.Dispose(); throw new DicomException(item, $"Photometric Interpretation {photometric} is not supported for colour (RGB, YBR_FULL, YBR_FULL_422)"); }
            return buf;
        }
        if (c != 1) throw new DicomException(item, $"{a.BitsAllocated}-bit colour images are not supported");
        if (a.BitsAllocated == 16 && !a.IsSigned)
        {
            var buf = ImageBuffer.Create(w, h, 1, PixelType.UInt16);
            var dst = buf.Pixels<ushort>();
            ushort mask = (ushort)((1 << a.BitsStored) - 1);
            Unpack16(src, dst, mask);
            return buf;
        }
        var fbuf = ImageBuffer.Create(w, h, 1, PixelType.Float32);
        var f = fbuf.Pixels<float>();
        int shift = 32 - a.BitsStored;
        for (int i = 0; i < n; i++)
        {
            uint raw = a.BitsAllocated switch
            {
                8 => src[i],
                16 => BinaryPrimitives.ReadUInt16LittleEndian(src[(i * 2)..]),
                _ => BinaryPrimitives.ReadUInt32LittleEndian(src[(i * 4)..]),
            };
            f[i] = a.IsSigned ? (int)(raw << shift) >> shift : (float)((raw << shift) >> shift);
        }
        return fbuf;
    }

    /// <summary>YBR_FULL to RGB, PS3.3 C.7.6.3.1.2 (full-range ITU-R BT.601 coefficients), rounded and clamped.</summary>
    internal static void YbrFullToRgb(Span<byte> pixels)
    {
        for (int i = 0; i + 2 < pixels.Length; i += 3)
        {
            double y = pixels[i], cb = pixels[i + 1] - 128.0, cr = pixels[i + 2] - 128.0;
            pixels[i] = ClampByte(y + 1.402 * cr);
            pixels[i + 1] = ClampByte(y - 0.344136 * cb - 0.714136 * cr);
            pixels[i + 2] = ClampByte(y + 1.772 * cb);
        }
    }

    private static byte ClampByte(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}
