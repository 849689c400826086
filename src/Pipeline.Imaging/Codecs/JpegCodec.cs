using Pipeline.Imaging.Buffers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Imaging.Codecs;

/// <summary>Chroma subsampling of an encoded colour JPEG.</summary>
public enum JpegSubsampling
{
    Samp444,
    Samp422,
    Samp420,
}

public sealed record JpegEncodeOptions
{
    /// <summary>Quality 1..100 (standard IJG quantisation table scaling).</summary>
    public int Quality { get; init; } = 90;
    /// <summary>Chroma subsampling for colour images; gray images are always single-component.</summary>
    public JpegSubsampling Subsampling { get; init; } = JpegSubsampling.Samp420;
    public static JpegEncodeOptions Default { get; } = new();
}

public sealed record JpegDecodeOptions
{
    /// <summary>
    /// Treat a truncated stream (no end-of-image marker: the decoder would fill the missing part) as an error. True by
    /// default, like PIL without LOAD_TRUNCATED_IMAGES: a damaged file is reported, not silently patched.
    /// </summary>
    public bool StopOnWarning { get; init; } = true;
    public long MaxPixels { get; init; } = ImageDecodeOptions.Default.MaxPixels;
    public static JpegDecodeOptions Default { get; } = new();
}

/// <summary>
/// Baseline and progressive 8-bit JPEG through SixLabors.ImageSharp 2.1 (<see cref="ImageCodecConfiguration"/>: PNG and
/// JPEG only, size checked from the header before decoding). Gray JPEGs decode to 1 channel, colour JPEGs to 3-channel
/// RGB. ImageSharp's IDCT and chroma upsampling are not libjpeg's, so pixels may differ from PIL's decode by a few levels
/// (the tests bound it). 12-bit JPEGs are rejected with an <see cref="ImageFormatException"/>.
/// </summary>
public static class JpegCodec
{
    private const string Format = "JPEG";

    public static bool IsJpeg(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    public static async Task<ImageBuffer> ReadAsync(string path, JpegDecodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return Decode(bytes, Path.GetFileName(path), options);
    }

    public static async Task WriteAsync(string path, ImageBuffer image, JpegEncodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        var bytes = Encode(image, options);
        await File.WriteAllBytesAsync(path, bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <exception cref="ImageFormatException">The stream is not a decodable JPEG, is truncated, or claims more pixels than the limit.</exception>
    public static ImageBuffer Decode(ReadOnlySpan<byte> data, string item = "image.jpg", JpegDecodeOptions? options = null) =>
        Decode(data.ToArray(), item, options);

    /// <inheritdoc cref="Decode(ReadOnlySpan{byte}, string, JpegDecodeOptions?)"/>
    public static ImageBuffer Decode(byte[] data, string item = "image.jpg", JpegDecodeOptions? options = null)
    {
        options ??= JpegDecodeOptions.Default;
        if (!IsJpeg(data)) throw new ImageFormatException(item, Format, "missing JPEG SOI marker");
        var jpeg = ImageCodecConfiguration.Identify(data, item, Format, options.MaxPixels).Metadata.GetJpegMetadata();
        if (options.StopOnWarning && !EndsWithEoi(data))
            throw new ImageFormatException(item, Format, "damaged data: no end-of-image marker (truncated file)");
        return jpeg.ColorType == JpegColorType.Luminance
            ? ImageCodecConfiguration.Decode<L8>(data, item, Format, 1, PixelType.UInt8)
            : ImageCodecConfiguration.Decode<Rgb24>(data, item, Format, 3, PixelType.UInt8);
    }

    /// <summary>The EOI marker (FF D9) ends the stream, allowing trailing padding bytes (00 or FF) some writers add.</summary>
    private static bool EndsWithEoi(ReadOnlySpan<byte> data)
    {
        var end = data.Length;
        while (end > 0 && data[end - 1] is 0x00 or 0xFF) end--;
        return end >= 4 && data[end - 2] == 0xFF && data[end - 1] == 0xD9;
    }

    /// <summary>Encodes an 8-bit gray (1 channel), RGB (3) or RGBA (4, alpha dropped) image.</summary>
    public static byte[] Encode(ImageBuffer image, JpegEncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= JpegEncodeOptions.Default;
        if (image.PixelType != PixelType.UInt8) throw new ArgumentException($"JPEG (8-bit) needs UInt8 samples, got {image}", nameof(image));
        if (options.Quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(options), $"quality must be 1..100, got {options.Quality}");
        var encoder = new JpegEncoder
        {
            Quality = options.Quality,
            ColorType = image.Channels == 1 ? JpegColorType.Luminance : options.Subsampling switch
            {
                JpegSubsampling.Samp444 => JpegColorType.YCbCrRatio444,
                JpegSubsampling.Samp422 => JpegColorType.YCbCrRatio422,
                _ => JpegColorType.YCbCrRatio420,
            },
        };
        return image.Channels switch
        {
            1 => Encode<L8>(image, encoder),
            3 => Encode<Rgb24>(image, encoder),
            4 => Encode<Rgba32>(image, encoder),
            _ => throw new ArgumentException($"JPEG needs 1, 3 or 4 channels, got {image.Channels}", nameof(image)),
        };
    }

    private static byte[] Encode<TPixel>(ImageBuffer buffer, JpegEncoder encoder) where TPixel : unmanaged, IPixel<TPixel>
    {
        using var image = ImageCodecConfiguration.ToImage<TPixel>(buffer);
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
