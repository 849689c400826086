using System.Runtime.InteropServices;
using Pipeline.Imaging.Buffers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Pipeline.Imaging.Codecs;

/// <summary>
/// The one ImageSharp configuration the codecs use: only the PNG and JPEG formats are registered (no BMP, GIF, TGA,
/// TIFF, WebP, PBM decoders to reach through a mislabelled file), and every decode reads the header first and refuses
/// a claimed size above <see cref="ImageDecodeOptions.MaxPixels"/> before any pixel memory is allocated.
/// Also the conversions between ImageSharp images and <see cref="ImageBuffer"/> (interleaved samples, row-major).
/// </summary>
internal static class ImageCodecConfiguration
{
    public static Configuration Instance { get; } = Create();

    private static Configuration Create()
    {
        var configuration = new Configuration(new PngConfigurationModule(), new JpegConfigurationModule());
        // Text, EXIF, ICC, IPTC and XMP metadata are never used here: skipping them narrows what a hostile file reaches.
        configuration.ImageFormatsManager.SetDecoder(PngFormat.Instance, new PngDecoder { IgnoreMetadata = true });
        configuration.ImageFormatsManager.SetDecoder(JpegFormat.Instance, new JpegDecoder { IgnoreMetadata = true });
        return configuration;
    }

    /// <summary>
    /// Reads only the header (ImageSharp's Identify: no pixel data is decoded) and checks the claimed size against the
    /// limit. Throws <see cref="ImageFormatException"/> naming the item, the claimed size and the limit.
    /// </summary>
    public static IImageInfo Identify(byte[] data, string item, string format, long maxPixels)
    {
        IImageInfo? info;
        try { info = Image.Identify(Instance, data, out _); }
        catch (Exception e) when (e is not OperationCanceledException) { throw new ImageFormatException(item, format, $"bad header ({e.Message})", e); }
        if (info is null) throw new ImageFormatException(item, format, "not recognised as " + format);
        CheckSize(item, format, info.Width, info.Height, maxPixels);
        return info;
    }

    /// <summary>Refuses a header's size that is empty or above the pixel limit, naming the item, the claimed size and the limit.</summary>
    public static void CheckSize(string item, string format, long width, long height, long maxPixels)
    {
        if (width <= 0 || height <= 0) throw new ImageFormatException(item, format, $"invalid size {width}x{height}");
        if (width * height > maxPixels)
            throw new ImageFormatException(item, format,
                $"the header claims {width}x{height} = {width * height} pixels, more than the limit of {maxPixels} (ImageDecodeOptions.MaxPixels); refused before decoding");
    }

    /// <summary>Decodes <paramref name="data"/> as <typeparamref name="TPixel"/> and copies it into a new buffer of <paramref name="channels"/> x <paramref name="type"/> samples.</summary>
    public static ImageBuffer Decode<TPixel>(byte[] data, string item, string format, int channels, PixelType type) where TPixel : unmanaged, IPixel<TPixel>
    {
        Image<TPixel> image;
        try { image = Image.Load<TPixel>(Instance, data); }
        catch (Exception e) when (e is not OperationCanceledException) { throw new ImageFormatException(item, format, e.Message, e); }
        using (image)
        {
            if ((long)image.Width * image.Height * channels > int.MaxValue)
                throw new ImageFormatException(item, format, $"a {image.Width}x{image.Height}x{channels} image does not fit in one buffer");
            var buffer = ImageBuffer.Create(image.Width, image.Height, channels, type);
            try
            {
                image.CopyPixelDataTo(MemoryMarshal.Cast<byte, TPixel>(buffer.Bytes));
                return buffer;
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
        }
    }

    /// <summary>An ImageSharp image holding a copy of <paramref name="buffer"/>'s samples (which must match <typeparamref name="TPixel"/>'s layout).</summary>
    public static Image<TPixel> ToImage<TPixel>(ImageBuffer buffer) where TPixel : unmanaged, IPixel<TPixel> =>
        Image.LoadPixelData<TPixel>(Instance, MemoryMarshal.Cast<byte, TPixel>(buffer.Bytes), buffer.Width, buffer.Height);
}
