using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Codecs;

/// <summary>Chroma subsampling of an encoded colour JPEG (TurboJPEG's TJSAMP).</summary>
public enum JpegSubsampling
{
    Samp444 = TurboJpegNative.Samp444,
    Samp422 = TurboJpegNative.Samp422,
    Samp420 = TurboJpegNative.Samp420,
    Samp440 = TurboJpegNative.Samp440,
    Samp411 = TurboJpegNative.Samp411,
}

public sealed record JpegEncodeOptions
{
    /// <summary>libjpeg quality 1..100 (standard IJG quantisation table scaling).</summary>
    public int Quality { get; init; } = 90;
    /// <summary>Chroma subsampling for colour images; gray images are always single-component.</summary>
    public JpegSubsampling Subsampling { get; init; } = JpegSubsampling.Samp420;
    public bool Progressive { get; init; }
    public static JpegEncodeOptions Default { get; } = new();
}

public sealed record JpegDecodeOptions
{
    /// <summary>
    /// Treat libjpeg warnings (premature end of data, corrupt entropy data that libjpeg would paper over with gray) as
    /// errors. True by default, like PIL without LOAD_TRUNCATED_IMAGES: a damaged file is reported, not silently patched.
    /// </summary>
    public bool StopOnWarning { get; init; } = true;
    public long MaxPixels { get; init; } = ImageDecodeOptions.Default.MaxPixels;
    public static JpegDecodeOptions Default { get; } = new();
}

/// <summary>
/// Baseline and progressive 8-bit JPEG through libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0). Decodes gray
/// JPEGs to 1 channel and YCbCr/RGB JPEGs to 3-channel RGB (accurate integer IDCT, fancy upsampling: the libjpeg defaults
/// that PIL also uses, so pixels match PIL's decode). CMYK/YCCK and 12-bit JPEGs are rejected with an
/// <see cref="ImageFormatException"/>.
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

    /// <exception cref="ImageFormatException">The stream is not a decodable JPEG.</exception>
    public static unsafe ImageBuffer Decode(ReadOnlySpan<byte> data, string item = "image.jpg", JpegDecodeOptions? options = null)
    {
        options ??= JpegDecodeOptions.Default;
        if (!IsJpeg(data)) throw new ImageFormatException(item, Format, "missing JPEG SOI marker");
        nint handle = Native(TurboJpegNative.InitDecompress);
        if (handle == 0) throw new InvalidOperationException("tjInitDecompress failed");
        try
        {
            fixed (byte* src = data)
            {
                if (TurboJpegNative.DecompressHeader3(handle, src, (nuint)data.Length, out int w, out int h, out _, out int colorspace) != 0)
                    throw new ImageFormatException(item, Format, $"bad header ({TurboJpegNative.ErrorText(handle)})");
                if (w <= 0 || h <= 0) throw new ImageFormatException(item, Format, $"invalid size {w}x{h}");
                if ((long)w * h > options.MaxPixels) throw new ImageFormatException(item, Format, $"size {w}x{h} exceeds the limit of {options.MaxPixels} pixels");
                if (colorspace is TurboJpegNative.ColorspaceCmyk or TurboJpegNative.ColorspaceYcck)
                    throw new ImageFormatException(item, Format, "CMYK/YCCK JPEGs are not supported");
                bool gray = colorspace == TurboJpegNative.ColorspaceGray;
                if ((long)w * h * (gray ? 1 : 3) > int.MaxValue) throw new ImageFormatException(item, Format, $"a {w}x{h} image does not fit in one buffer");
                var image = ImageBuffer.Create(w, h, gray ? 1 : 3, PixelType.UInt8);
                try
                {
                    int flags = TurboJpegNative.FlagAccurateDct | TurboJpegNative.FlagLimitScans | (options.StopOnWarning ? TurboJpegNative.FlagStopOnWarning : 0);
                    fixed (byte* dst = image.Bytes)
                    {
                        int rc = TurboJpegNative.Decompress2(handle, src, (nuint)data.Length, dst, w, w * image.Channels, h,
                            gray ? TurboJpegNative.PixelFormatGray : TurboJpegNative.PixelFormatRgb, flags);
                        if (rc != 0)
                        {
                            bool warning = TurboJpegNative.GetErrorCode(handle) == TurboJpegNative.ErrorWarning;
                            if (!warning || options.StopOnWarning)
                                throw new ImageFormatException(item, Format, $"{(warning ? "damaged data" : "decode failed")} ({TurboJpegNative.ErrorText(handle)})");
                        }
                    }
                    return image;
                }
                catch
                {
                    image.Dispose();
                    throw;
                }
            }
        }
        finally
        {
            TurboJpegNative.Destroy(handle);
        }
    }

    /// <summary>Encodes an 8-bit gray (1 channel), RGB (3) or RGBA (4, alpha dropped) image.</summary>
    public static unsafe byte[] Encode(ImageBuffer image, JpegEncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= JpegEncodeOptions.Default;
        if (image.PixelType != PixelType.UInt8) throw new ArgumentException($"JPEG (8-bit TurboJPEG) needs UInt8 samples, got {image}", nameof(image));
        if (options.Quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(options), $"quality must be 1..100, got {options.Quality}");
        int pixelFormat = image.Channels switch
        {
            1 => TurboJpegNative.PixelFormatGray,
            3 => TurboJpegNative.PixelFormatRgb,
            4 => TurboJpegNative.PixelFormatRgba,
            _ => throw new ArgumentException($"JPEG needs 1, 3 or 4 channels, got {image.Channels}", nameof(image)),
        };
        int subsamp = image.Channels == 1 ? TurboJpegNative.SampGray : (int)options.Subsampling;
        nint handle = Native(TurboJpegNative.InitCompress);
        if (handle == 0) throw new InvalidOperationException("tjInitCompress failed");
        byte* jpeg = null;
        try
        {
            nuint size = 0;
            fixed (byte* src = image.Bytes)
            {
                int flags = TurboJpegNative.FlagAccurateDct | (options.Progressive ? TurboJpegNative.FlagProgressive : 0);
                if (TurboJpegNative.Compress2(handle, src, image.Width, image.RowLength, image.Height, pixelFormat, &jpeg, &size, subsamp, options.Quality, flags) != 0)
                    throw new InvalidOperationException($"JPEG encode of {image} failed: {TurboJpegNative.ErrorText(handle)}");
            }
            return new ReadOnlySpan<byte>(jpeg, checked((int)size)).ToArray();
        }
        finally
        {
            if (jpeg != null) TurboJpegNative.Free(jpeg);
            TurboJpegNative.Destroy(handle);
        }
    }

    private static nint Native(Func<nint> init)
    {
        try
        {
            return init();
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException("libturbojpeg.so.0 is not installed; install Debian's libturbojpeg0 (apt-get install libturbojpeg0)", e);
        }
    }
}
