using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Pipeline.Imaging.Buffers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Imaging.Codecs;

/// <summary>Row filter choice when encoding (PNG spec 9.2): one fixed filter type, or adaptive (per row, minimum sum of absolute differences).</summary>
public enum PngFilterStrategy
{
    None = 0,
    Sub = 1,
    Up = 2,
    Average = 3,
    Paeth = 4,
    Adaptive = 5,
}

public sealed record PngEncodeOptions
{
    public PngFilterStrategy Filter { get; init; } = PngFilterStrategy.Adaptive;
    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Optimal;
    public static PngEncodeOptions Default { get; } = new();
}

/// <summary>
/// PNG through SixLabors.ImageSharp 2.1 (<see cref="ImageCodecConfiguration"/>: PNG and JPEG only, size checked from
/// the header before decoding). Decodes 1/2/4/8/16-bit gray (low depths scaled to 0..255 as the PNG spec's sBIT-free
/// rule and PIL do), gray+alpha, RGB and RGBA at 8 or 16 bits, palettes (expanded to RGB, or RGBA when a tRNS chunk is
/// present) and Adam7-interlaced files. Gray/RGB colour-key transparency (tRNS) is ignored, as PIL's plain decode does.
/// Writes UInt8 or UInt16 buffers of 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels losslessly.
/// </summary>
public static class PngCodec
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private const string Format = "PNG";

    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static async Task<ImageBuffer> ReadAsync(string path, ImageDecodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return Decode(bytes, Path.GetFileName(path), options);
    }

    public static async Task WriteAsync(string path, ImageBuffer image, PngEncodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        var bytes = Encode(image, options);
        await File.WriteAllBytesAsync(path, bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Decodes a complete PNG stream. <paramref name="item"/> names the source in error messages.</summary>
    /// <exception cref="ImageFormatException">The stream is not a valid PNG, is truncated/corrupt, or claims more pixels than the limit.</exception>
    public static ImageBuffer Decode(ReadOnlySpan<byte> data, string item = "image.png", ImageDecodeOptions? options = null) =>
        Decode(data.ToArray(), item, options);

    /// <inheritdoc cref="Decode(ReadOnlySpan{byte}, string, ImageDecodeOptions?)"/>
    public static ImageBuffer Decode(byte[] data, string item = "image.png", ImageDecodeOptions? options = null)
    {
        options ??= ImageDecodeOptions.Default;
        if (!IsPng(data)) throw new ImageFormatException(item, Format, "missing PNG signature");
        var header = ReadChunks(data, item, options.MaxPixels);
        var wide = header.BitDepth == 16;
        return header.ColorType switch
        {
            0 => wide ? Decode<L16>(data, item, 1, PixelType.UInt16) : Decode<L8>(data, item, 1, PixelType.UInt8),
            4 => wide ? Decode<La32>(data, item, 2, PixelType.UInt16) : Decode<La16>(data, item, 2, PixelType.UInt8),
            2 => wide ? Decode<Rgb48>(data, item, 3, PixelType.UInt16) : Decode<Rgb24>(data, item, 3, PixelType.UInt8),
            6 => wide ? Decode<Rgba64>(data, item, 4, PixelType.UInt16) : Decode<Rgba32>(data, item, 4, PixelType.UInt8),
            3 => header.HasTransparency ? Decode<Rgba32>(data, item, 4, PixelType.UInt8) : Decode<Rgb24>(data, item, 3, PixelType.UInt8),
            _ => throw new ImageFormatException(item, Format, $"colour type {header.ColorType} is not one of 0, 2, 3, 4, 6"),
        };
    }

    /// <summary>What the chunk list says about the image: IHDR's fields, and whether a tRNS chunk is present.</summary>
    private readonly record struct PngHeader(uint Width, uint Height, int BitDepth, int ColorType, bool Interlaced, bool HasTransparency);

    /// <summary>
    /// Walks the chunk list (PNG spec 5.3: length, type, data, CRC) before ImageSharp sees the file. IHDR must come first
    /// and its size is checked against the pixel limit there, so a decompression bomb is refused having read 33 bytes.
    /// A chunk that runs past the end of the file or whose CRC-32 does not match is refused, naming the chunk and its
    /// offset (ImageSharp does not check ancillary chunks' CRCs). Adam7-interlaced images narrower than 5 pixels are
    /// refused: some of their seven passes are empty, and ImageSharp 2.1.13 mis-handles that (a 1x1 or 2x2 image never
    /// finishes decoding, 3x3 and 4x4 fail with "unknown filter type"), so they get a clear error instead of a hang.
    /// </summary>
    private static PngHeader ReadChunks(ReadOnlySpan<byte> data, string item, long maxPixels)
    {
        PngHeader? header = null;
        var hasTransparency = false;
        int pos = 8;
        while (pos < data.Length)
        {
            if (data.Length - pos < 12) throw new ImageFormatException(item, Format, $"truncated chunk header at byte {pos}");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            var type = Encoding.ASCII.GetString(data.Slice(pos + 4, 4));
            if (header is null && type != "IHDR") throw new ImageFormatException(item, Format, $"first chunk is '{type}', expected IHDR");
            if (length > (uint)(data.Length - pos - 12))
                throw new ImageFormatException(item, Format, $"chunk '{type}' at byte {pos} claims {length} bytes but the file ends first (truncated)");
            var typeAndBody = data.Slice(pos + 4, 4 + (int)length);
            var body = typeAndBody[4..];
            if (Crc32.HashToUInt32(typeAndBody) != BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]))
                throw new ImageFormatException(item, Format, $"CRC mismatch in chunk '{type}' at byte {pos}");
            if (type == "IHDR")
            {
                if (header is not null) throw new ImageFormatException(item, Format, "more than one IHDR chunk");
                if (length != 13) throw new ImageFormatException(item, Format, $"IHDR has {length} bytes, not 13");
                uint width = BinaryPrimitives.ReadUInt32BigEndian(body), height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
                ImageCodecConfiguration.CheckSize(item, Format, width, height, maxPixels);
                header = new PngHeader(width, height, body[8], body[9], body[12] == 1, false);
                if (header.Value.Interlaced && width < 5)
                    throw new ImageFormatException(item, Format,
                        $"Adam7-interlaced {width}x{height} image: interlaced PNGs under 5 pixels wide are not supported (the decoder mis-handles their empty passes); save it without interlacing");
            }
            if (type == "tRNS") hasTransparency = true;
            pos += 12 + (int)length;
            if (type == "IEND") return header!.Value with { HasTransparency = hasTransparency };
        }
        throw new ImageFormatException(item, Format, "no IEND chunk (truncated)");
    }

    private static ImageBuffer Decode<TPixel>(byte[] data, string item, int channels, PixelType type) where TPixel : unmanaged, IPixel<TPixel> =>
        ImageCodecConfiguration.Decode<TPixel>(data, item, Format, channels, type);

    /// <summary>Encodes a UInt8 or UInt16 image of 1-4 channels (gray, gray+alpha, RGB, RGBA).</summary>
    public static byte[] Encode(ImageBuffer image, PngEncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= PngEncodeOptions.Default;
        if (image.PixelType is not (PixelType.UInt8 or PixelType.UInt16))
            throw new ArgumentException($"PNG stores integer samples; convert {image} with ToInteger(PixelType.UInt8 or UInt16) first", nameof(image));
        var wide = image.PixelType == PixelType.UInt16;
        var encoder = new PngEncoder
        {
            BitDepth = wide ? PngBitDepth.Bit16 : PngBitDepth.Bit8,
            ColorType = image.Channels switch
            {
                1 => PngColorType.Grayscale,
                2 => PngColorType.GrayscaleWithAlpha,
                3 => PngColorType.Rgb,
                4 => PngColorType.RgbWithAlpha,
                _ => throw new ArgumentException($"PNG needs 1, 2, 3 or 4 channels, got {image}", nameof(image)),
            },
            FilterMethod = options.Filter switch
            {
                PngFilterStrategy.None => PngFilterMethod.None,
                PngFilterStrategy.Sub => PngFilterMethod.Sub,
                PngFilterStrategy.Up => PngFilterMethod.Up,
                PngFilterStrategy.Average => PngFilterMethod.Average,
                PngFilterStrategy.Paeth => PngFilterMethod.Paeth,
                _ => PngFilterMethod.Adaptive,
            },
            CompressionLevel = options.CompressionLevel switch
            {
                CompressionLevel.NoCompression => PngCompressionLevel.NoCompression,
                CompressionLevel.Fastest => PngCompressionLevel.BestSpeed,
                CompressionLevel.SmallestSize => PngCompressionLevel.BestCompression,
                _ => PngCompressionLevel.DefaultCompression,
            },
            // keep exactly the samples given: no gamma chunk, no clearing of colour under transparent pixels
            ChunkFilter = PngChunkFilter.ExcludeAll,
            TransparentColorMode = PngTransparentColorMode.Preserve,
        };
        return (image.Channels, wide) switch
        {
            (1, false) => Encode<L8>(image, encoder),
            (1, true) => Encode<L16>(image, encoder),
            (2, false) => Encode<La16>(image, encoder),
            (2, true) => Encode<La32>(image, encoder),
            (3, false) => Encode<Rgb24>(image, encoder),
            (3, true) => Encode<Rgb48>(image, encoder),
            (4, false) => Encode<Rgba32>(image, encoder),
            _ => Encode<Rgba64>(image, encoder),
        };
    }

    private static byte[] Encode<TPixel>(ImageBuffer buffer, PngEncoder encoder) where TPixel : unmanaged, IPixel<TPixel>
    {
        using var image = ImageCodecConfiguration.ToImage<TPixel>(buffer);
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
