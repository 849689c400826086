using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Mammography;

/// <summary>A decoded source image: the DICOM (stored values) and its display rendering in [0, 1].</summary>
public sealed class SourceImage : IDisposable
{
    public SourceImage(DicomImage dicom, ImageBuffer display) { Dicom = dicom; Display = display; }
    public DicomImage Dicom { get; }
    public ImageBuffer Display { get; }
    public int Width => Display.Width;
    public int Height => Display.Height;

    public static SourceImage Decode(ReadOnlyMemory<byte> bytes, string item)
    {
        var dicom = DicomImage.Read(bytes, item);
        try
        {
            if (!dicom.Attributes.IsMonochrome)
                throw new InvalidDataException($"{item}: {dicom.Attributes.PhotometricInterpretation} images are not supported for mammography inpainting (MONOCHROME1/2 only)");
            return new SourceImage(dicom, DicomRenderer.Render(dicom));
        }
        catch { dicom.Dispose(); throw; }
    }

    /// <summary>The inverse of the display mapping for compositing: the VOI window when the file has one, else the
    /// stored range of the image (the min-max rendering's inverse).</summary>
    public DisplayToStored ToStored()
    {
        var a = Dicom.Attributes;
        if (a.WindowCenters.Length > 0 && a.WindowWidths.Length > 0)
            return LinearStoredRange.FromVoiWindow(a.WindowCenters[0], a.WindowWidths[0], a.RescaleSlope, a.RescaleIntercept, a.IsMonochrome1).AsDelegate();
        using var f = Dicom.Stored.ToFloat32();
        var p = f.Pixels<float>();
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in p) { if (v < min) min = v; if (v > max) max = v; }
        return (a.IsMonochrome1 ? new LinearStoredRange(max, min) : new LinearStoredRange(min, max)).AsDelegate();
    }

    public void Dispose() { Display.Dispose(); Dicom.Dispose(); }
}
