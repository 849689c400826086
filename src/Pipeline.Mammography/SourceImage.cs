using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Mammography;

/// <summary>The encoding of a dataset image.</summary>
public enum SourceFormat { Dicom, Png, Jpeg }

/// <summary>
/// A decoded source image: its stored pixels, its display rendering in [0, 1] (one channel) and, for a DICOM, the file.
/// DICOM: stored values, display by the file's VOI (<see cref="DicomRenderer"/>), MONOCHROME1/2 only. PNG and JPEG
/// (8/16-bit gray, RGB): the pixels as stored, display = value / full scale; an RGB image is seen by the model as its
/// luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) and receives the generated lesion in all three channels.
/// </summary>
public sealed class SourceImage : IDisposable
{
    private SourceImage(SourceFormat format, ImageBuffer stored, ImageBuffer display, DicomImage? dicom)
    {
        Format = format; Stored = stored; Display = display; Dicom = dicom;
    }

    public SourceFormat Format { get; }
    /// <summary>The pixels as stored (DICOM stored values; PNG/JPEG samples, channels interleaved).</summary>
    public ImageBuffer Stored { get; }
    public ImageBuffer Display { get; }
    /// <summary>The DICOM, for a DICOM source.</summary>
    public DicomImage? Dicom { get; }
    public int Width => Display.Width;
    public int Height => Display.Height;

    public static SourceImage Decode(ReadOnlyMemory<byte> bytes, string item)
    {
        var span = bytes.Span;
        if (PngCodec.IsPng(span) || JpegCodec.IsJpeg(span))
        {
            bool png = PngCodec.IsPng(span);
            var stored = png ? PngCodec.Decode(span, item) : JpegCodec.Decode(span, item);
            try
            {
                if (stored.Channels is not (1 or 3))
                    throw new InvalidDataException($"{item}: {stored.Channels}-channel images are not supported for mammography inpainting (gray or RGB)");
                return new SourceImage(png ? SourceFormat.Png : SourceFormat.Jpeg, stored, DisplayOf(stored), null);
            }
            catch { stored.Dispose(); throw; }
        }
        var dicom = DicomImage.Read(bytes, item);
        try
        {
            if (!dicom.Attributes.IsMonochrome)
                throw new InvalidDataException($"{item}: {dicom.Attributes.PhotometricInterpretation} images are not supported for mammography inpainting (MONOCHROME1/2 only)");
            return new SourceImage(SourceFormat.Dicom, dicom.Stored, DicomRenderer.Render(dicom), dicom);
        }
        catch { dicom.Dispose(); throw; }
    }

    /// <summary>Full scale of a raster's samples: 255 for 8-bit, 65535 for 16-bit.</summary>
    public static double FullScale(ImageBuffer raster) => raster.PixelType == PixelType.UInt16 ? 65535 : 255;

    private static ImageBuffer DisplayOf(ImageBuffer raster)
    {
        using var f = raster.ToFloat32();
        var display = ImageBuffer.Create(raster.Width, raster.Height, 1, PixelType.Float32);
        var src = f.Pixels<float>();
        var dst = display.Pixels<float>();
        float scale = (float)(1.0 / FullScale(raster));
        if (raster.Channels == 1) for (int i = 0; i < dst.Length; i++) dst[i] = src[i] * scale;
        else for (int i = 0; i < dst.Length; i++) dst[i] = (0.299f * src[3 * i] + 0.587f * src[3 * i + 1] + 0.114f * src[3 * i + 2]) * scale;
        return display;
    }

    /// <summary>The inverse of the display mapping for compositing: for a DICOM the VOI window when the file has one, else
    /// the stored range of the image (the min-max rendering's inverse); for PNG/JPEG the full scale.</summary>
    public DisplayToStored ToStored()
    {
        if (Dicom is null) return LinearStoredRange.FullScale(FullScale(Stored)).AsDelegate();
        var a = Dicom.Attributes;
        if (a.WindowCenters.Length > 0 && a.WindowWidths.Length > 0)
            return LinearStoredRange.FromVoiWindow(a.WindowCenters[0], a.WindowWidths[0], a.RescaleSlope, a.RescaleIntercept, a.IsMonochrome1).AsDelegate();
        using var f = Dicom.Stored.ToFloat32();
        var p = f.Pixels<float>();
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in p) { if (v < min) min = v; if (v > max) max = v; }
        return (a.IsMonochrome1 ? new LinearStoredRange(max, min) : new LinearStoredRange(min, max)).AsDelegate();
    }

    public void Dispose()
    {
        Display.Dispose();
        if (Dicom is not null) Dicom.Dispose(); else Stored.Dispose();
    }
}
