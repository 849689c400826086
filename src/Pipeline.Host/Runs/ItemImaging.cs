using Pipeline.Core.Contracts;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Host.Runs;

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

/// <summary>Geometry of one item's zoom-in crop, kept from Preprocess to Compose and the report.</summary>
public sealed record CropGeometry(int Left, int Top, int Side, int Resolution, int BoxLeft, int BoxTop, int BoxWidth, int BoxHeight, double Ratio)
{
    public ZoomInCrop ToCrop() => new(new PixelRect(Left, Top, Side, Side), Resolution, new PixelRect(BoxLeft, BoxTop, BoxWidth, BoxHeight));

    public static CropGeometry From(ZoomInCrop c, double ratio) =>
        new(c.Crop.Left, c.Crop.Top, c.Side, c.Resolution, c.ModelBox.Left, c.ModelBox.Top, c.ModelBox.Width, c.ModelBox.Height, ratio);
}

/// <summary>
/// The AnydoorMed data path of one item as pure steps over decoded images (docs/preprocessing.md): zoom-in crop of the
/// target around the box, masked context, box mask, reference crop and its high-frequency collage, all in model space.
/// </summary>
public static class ItemImaging
{
    /// <summary>Crop ratio range of the zoom-in crop for mammography (thesis-notes §1A: 3-4x the box edge).</summary>
    public const double MinRatio = 3.0, MaxRatio = 4.0;
    /// <summary>Reference crop expansion (docs/preprocessing.md).</summary>
    public const double ReferenceExpand = 1.2;

    public static (TensorBundle Tensors, CropGeometry Geometry) Prepare(WorkItem item, SourceImage target, SourceImage reference, int resolution, int referenceSize)
    {
        var rng = new SplitMix64((ulong)item.Seed);
        double ratio = rng.Uniform(MinRatio, MaxRatio);
        var box = RunPlanner.ToBoxF(item.TargetBox);
        var crop = ZoomInCrop.Plan(target.Width, target.Height, box, ratio, resolution);
        int n = resolution * resolution;

        var display = new float[n];
        crop.Extract(target.Display.Pixels<float>(), target.Width, target.Height, display);
        var model = new float[n];
        ModelSpace.FromDisplay(display, model);
        var mask = crop.Mask();
        var context = new float[n];
        ModelSpace.MaskedContext(model, mask, context);

        var refCrop = ReferenceCrop.Plan(reference.Width, reference.Height, RunPlanner.ToBoxF(item.ReferenceBox), ReferenceExpand, referenceSize);
        var refDisplay = new float[referenceSize * referenceSize];
        refCrop.Extract(reference.Display.Pixels<float>(), reference.Width, reference.Height, refDisplay);
        var hf = new float[refDisplay.Length];
        HighFrequencyMap.Compute(refDisplay, refCrop.SupportMask(), referenceSize, hf);
        var detail = new float[n];
        HighFrequencyMap.Collage(hf, referenceSize, crop.ModelBox, resolution, detail);
        var refModel = new float[refDisplay.Length];
        ModelSpace.FromDisplay(refDisplay, refModel);

        var bundle = new TensorBundle()
            .Add("context", context).Add("mask", mask).Add("reference", refModel).Add("detail", detail)
            .Add("original", model); // the unmasked target crop: the paired reference for metrics (reinsertion) and the report
        return (bundle, CropGeometry.From(crop, ratio));
    }

    /// <summary>Pastes the generated crop (model space) back into the target's stored pixels.</summary>
    public static ImageBuffer Compose(SourceImage target, float[] generated, CropGeometry geometry, BoundingBox box, CompositeOptions? options = null) =>
        PasteBack.Composite(target.Dicom.Stored, generated, geometry.ToCrop(), RunPlanner.ToBoxF(box), target.ToStored(), options);
}
