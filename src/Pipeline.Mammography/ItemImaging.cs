using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Mammography.Planning;

namespace Pipeline.Mammography;

/// <summary>
/// The AnydoorMed data path of one item as pure steps over decoded images (docs/preprocessing.md): zoom-in crop of the
/// target around the box, masked context, box mask, reference crop and its high-frequency collage, all in model space.
/// </summary>
public static class ItemImaging
{
    /// <summary>
    /// The item's model inputs with <paramref name="preparation"/> (the model's; docs/reference.md "Zoom-in crop" and
    /// "Reference crop" for the AnydoorMed values): the crop ratio is drawn uniformly in [CropRatioMin, CropRatioMax) from
    /// the item's seed, so an item is prepared the same way every time.
    /// </summary>
    public static PreparedItem Prepare(WorkItem item, SourceImage target, SourceImage reference, PreparationSettings preparation)
    {
        if (preparation.ValueMin != -1.0 || preparation.ValueMax != 1.0)
            throw new InvalidDataException($"{item.ItemId}: the model's value range is [{preparation.ValueMin}, {preparation.ValueMax}]; mammography inputs are prepared in [-1, 1] (docs/preprocessing.md, \"Values\")");
        int resolution = preparation.Resolution, referenceSize = preparation.ReferenceSize;
        var rng = new SplitMix64((ulong)item.Seed);
        double ratio = rng.Uniform(preparation.CropRatioMin, preparation.CropRatioMax);
        var box = LesionPlanner.ToBoxF(item.TargetBox);
        var crop = ZoomInCrop.Plan(target.Width, target.Height, box, ratio, resolution);
        int n = resolution * resolution;

        var display = new float[n];
        crop.Extract(target.Display.Pixels<float>(), target.Width, target.Height, display);
        var model = new float[n];
        ModelSpace.FromDisplay(display, model);
        var mask = crop.Mask();
        var context = new float[n];
        ModelSpace.MaskedContext(model, mask, context);

        var refCrop = ReferenceCrop.Plan(reference.Width, reference.Height, LesionPlanner.ToBoxF(item.ReferenceBox), preparation.ReferenceExpand, referenceSize);
        var refDisplay = new float[referenceSize * referenceSize];
        refCrop.Extract(reference.Display.Pixels<float>(), reference.Width, reference.Height, refDisplay);
        var hf = new float[refDisplay.Length];
        HighFrequencyMap.Compute(refDisplay, refCrop.SupportMask(), referenceSize, hf);
        var detail = new float[n];
        HighFrequencyMap.Collage(hf, referenceSize, crop.ModelBox, resolution, detail);
        var refModel = new float[refDisplay.Length];
        ModelSpace.FromDisplay(refDisplay, refModel);

        // The copy&paste baseline with the run's compositing and that compositing's alpha, cut like the target crop; and the
        // reference lesion in its own image, cut the same way (the real lesions FD is measured against).
        var referenceBox = LesionPlanner.ToBoxF(item.ReferenceBox);
        // Only the crop's part of the image is composited: the resampler reads nothing outside the crop and reads 0 outside
        // the image, so the crop of the window (the crop inside the image) is the crop of the whole composite.
        var window = crop.Crop.ClipTo(target.Width, target.Height);
        var inWindow = crop with { Crop = crop.Crop with { Left = crop.Crop.Left - window.Left, Top = crop.Crop.Top - window.Top } };
        var (pasted, alphaWindow) = CopyPasteBaseline.Composite(target.Display.Pixels<float>(), target.Width, target.Height, box,
            reference.Display.Pixels<float>(), reference.Width, reference.Height, referenceBox, window);
        var copyPaste = new float[n];
        inWindow.Extract(pasted, window.Width, window.Height, copyPaste);
        var copyPasteModel = new float[n];
        ModelSpace.FromDisplay(copyPaste, copyPasteModel);
        var alpha = new float[n];
        inWindow.Extract(alphaWindow, window.Width, window.Height, alpha);
        var objectCrop = ZoomInCrop.Plan(reference.Width, reference.Height, referenceBox, ratio, resolution);
        var objectDisplay = new float[n];
        objectCrop.Extract(reference.Display.Pixels<float>(), reference.Width, reference.Height, objectDisplay);
        var objectModel = new float[n];
        ModelSpace.FromDisplay(objectDisplay, objectModel);

        var bundle = new TensorBundle()
            .Add(ModelTensorNames.Context, context).Add(ModelTensorNames.Mask, mask).Add(ModelTensorNames.Reference, refModel).Add(ModelTensorNames.Detail, detail)
            .Add(ModelTensorNames.Original, model) // the unmasked target crop: the paired reference for metrics (reinsertion) and the report
            .Add(ModelTensorNames.CopyPaste, copyPasteModel).Add(ModelTensorNames.CompositeAlpha, alpha).Add(ModelTensorNames.RealObject, objectModel);
        // the target's tissue is kept under the lesion where the box holds healthy tissue: insertion only
        // and the full-resolution band the crop's resampling removes is the target's own where the box holds what the output
        // shows there: tissue under an insertion, the lesion itself for reinsertion (not replacement: the old lesion's)
        // a replacement's box holds the old lesion: with a tissue donor, the generated lesion goes over the tissue of the window
        // whose surroundings best match the box's, and the full-resolution band is that window's
        bool keep = preparation.TargetTextureSigma > 0;
        var geometry = Geometry(crop, ratio) with
        {
            TextureSigma = keep && item.Mode == TaskMode.Insertion ? preparation.TargetTextureSigma : 0,
            KeepDetail = keep && item.Mode is TaskMode.Insertion or TaskMode.Reinsertion,
        };
        bool[]? air = null;
        if (keep && preparation.TissueDonor && item.Mode == TaskMode.Replacement && target.Stored.Channels == 1 &&
            TissueDonor.Find(target.Display.Pixels<float>(), target.Width, target.Height, box.Cover(), CompositeOptions.Default.Margin, air = AirMask(target),
                item.OtherFindings?.Select(f => LesionPlanner.ToBoxF(f).Cover()).ToList()) is { } donor)
        {
            geometry = geometry with
            {
                TextureSigma = preparation.TargetTextureSigma, KeepDetail = true, TissueDonor = true, DonorOffsetX = donor.OffsetX, DonorOffsetY = donor.OffsetY,
            };
            bundle.Add(ModelTensorNames.Tissue, DonorTissue(target, geometry, model, air));
        }
        return new PreparedItem(bundle, geometry);
    }

    /// <summary>The tissue a replacement with a tissue donor puts the lesion over (model space): the donor window's crop
    /// (the zoom-in crop shifted by the donor offset) matched to the target crop <paramref name="original"/> along the
    /// box's border (<see cref="BoundaryMatch"/>).</summary>
    public static float[] DonorTissue(SourceImage target, CropGeometry geometry, float[] original) => DonorTissue(target, geometry, original, AirMask(target));

    /// <summary><see cref="DonorTissue(SourceImage, CropGeometry, float[])"/> with the target's air mask already made
    /// (<see cref="AirMask"/>).</summary>
    public static float[] DonorTissue(SourceImage target, CropGeometry geometry, float[] original, bool[]? air)
    {
        var crop = ToCrop(geometry);
        var donorCrop = DonorCrop(crop, geometry);
        var display = new float[geometry.Resolution * geometry.Resolution];
        donorCrop.Extract(target.Display.Pixels<float>(), target.Width, target.Height, display);
        var donor = new float[display.Length];
        ModelSpace.FromDisplay(display, donor);
        var tissue = BoundaryMatch.Apply(donor, original, geometry.Resolution, geometry.BoxLeft, geometry.BoxTop, geometry.BoxWidth, geometry.BoxHeight);
        if (air is not null)
        {
            // where the target shows air, the output keeps it (as Compose does at full resolution): the model pixels that
            // are mostly air in the crop's resampling (which reads only the crop's part of the image, 0 outside it)
            var window = crop.Crop.ClipTo(target.Width, target.Height);
            var airImage = new float[window.Width * window.Height];
            for (int y = 0; y < window.Height; y++)
                for (int x = 0; x < window.Width; x++) airImage[y * window.Width + x] = air[(y + window.Top) * target.Width + x + window.Left] ? 1f : 0f;
            var inWindow = crop with { Crop = crop.Crop with { Left = crop.Crop.Left - window.Left, Top = crop.Crop.Top - window.Top } };
            var airCrop = new float[tissue.Length];
            inWindow.Extract(airImage, window.Width, window.Height, airCrop);
            var isAir = new bool[tissue.Length];
            for (int i = 0; i < isAir.Length; i++) isAir[i] = airCrop[i] >= 0.5f;
            TissueDonor.RestoreAir<float>(tissue, original, isAir, geometry.Resolution, geometry.Resolution, crop.ModelBox);
        }
        return tissue;
    }

    /// <summary>The target's air (the DICOM's padding: outside the breast), or null when it declares none (PNG, JPEG, a
    /// DICOM without Pixel Padding Value).</summary>
    public static bool[]? AirMask(SourceImage target) => target.Dicom is null ? null : DicomRenderer.PaddingMask(target.Dicom);

    /// <summary>A replacement over a donor's tissue keeps the target's air: the stored pixels of the pasted region that
    /// are padding in the target are the target's (<see cref="TissueDonor.RestoreAir{T}"/>).</summary>
    private static ImageBuffer KeepAir(ImageBuffer output, SourceImage target, bool[]? air, PixelRect region)
    {
        if (air is null || output.Channels != 1) return output;
        switch (output.PixelType)
        {
            case PixelType.UInt16: TissueDonor.RestoreAir(output.Pixels<ushort>(), target.Stored.Pixels<ushort>(), air, output.Width, output.Height, region); break;
            case PixelType.UInt8: TissueDonor.RestoreAir(output.Pixels<byte>(), target.Stored.Pixels<byte>(), air, output.Width, output.Height, region); break;
            default: TissueDonor.RestoreAir(output.Pixels<float>(), target.Stored.Pixels<float>(), air, output.Width, output.Height, region); break;
        }
        return output;
    }

    /// <summary>The zoom-in crop shifted by the geometry's donor offset (the same box in model pixels).</summary>
    private static ZoomInCrop DonorCrop(ZoomInCrop crop, CropGeometry geometry) =>
        crop with { Crop = new PixelRect(crop.Crop.Left + geometry.DonorOffsetX, crop.Crop.Top + geometry.DonorOffsetY, crop.Crop.Width, crop.Crop.Height) };

    /// <summary>Pastes the generated crop (model space) back into the target's stored pixels; on a one-channel target,
    /// with a positive <see cref="CropGeometry.TextureSigma"/> keeping the target's tissue under the lesion
    /// (<see cref="KeptSample"/> at model resolution) and with <see cref="CropGeometry.KeepDetail"/> the target's
    /// full-resolution band the crop's resampling removes (PasteBack's <c>targetDisplay</c>).</summary>
    public static ImageBuffer Compose(SourceImage target, float[] generated, CropGeometry geometry, BoundingBox box, CompositeOptions? options = null)
    {
        int channels = target.Stored.Channels;
        if ((geometry.TextureSigma > 0 || geometry.KeepDetail) && channels == 1)
        {
            var crop = ToCrop(geometry);
            var display = new float[geometry.Resolution * geometry.Resolution];
            crop.Extract(target.Display.Pixels<float>(), target.Width, target.Height, display);
            var original = new float[display.Length];
            ModelSpace.FromDisplay(display, original);
            var air = geometry.TissueDonor ? AirMask(target) : null;
            var under = geometry.TissueDonor ? DonorTissue(target, geometry, original, air) : original;
            var composed = PasteBack.Composite(target.Stored, KeptSample(generated, under, crop.Mask(), geometry), crop, LesionPlanner.ToBoxF(box), target.ToStored(), options,
                geometry.KeepDetail ? target.Display : null, geometry.TissueDonor ? (geometry.DonorOffsetX, geometry.DonorOffsetY) : (0, 0));
            return geometry.TissueDonor ? KeepAir(composed, target, air, LesionPlanner.ToBoxF(box).Cover().Inflate((options ?? CompositeOptions.Default).Margin)) : composed;
        }
        if (channels > 1)
        {
            // The model generates gray; an RGB target receives it in every channel (interleaved as the buffer is).
            var replicated = new float[generated.Length * channels];
            for (int i = 0; i < generated.Length; i++) replicated.AsSpan(i * channels, channels).Fill(generated[i]);
            generated = replicated;
        }
        return PasteBack.Composite(target.Stored, generated, ToCrop(geometry), LesionPlanner.ToBoxF(box), target.ToStored(), options);
    }

    /// <summary>The sample as the output shows it at model resolution: the generated lesion over <paramref name="tissue"/>
    /// (<see cref="TargetTexture"/>: the target's own crop, or a replacement's donor tissue) when the geometry says so, else
    /// the sample itself. All model space.</summary>
    public static float[] KeptSample(float[] sample, float[] tissue, float[] mask, CropGeometry geometry) =>
        geometry.TextureSigma > 0 ? TargetTexture.Keep(sample, tissue, mask, geometry.Resolution, geometry.TextureSigma) : sample;

    /// <summary>The zoom-in crop a geometry describes.</summary>
    public static ZoomInCrop ToCrop(CropGeometry g) => new(new PixelRect(g.Left, g.Top, g.Side, g.Side), g.Resolution, new PixelRect(g.BoxLeft, g.BoxTop, g.BoxWidth, g.BoxHeight));

    /// <summary>The geometry of a zoom-in crop drawn with <paramref name="ratio"/>.</summary>
    public static CropGeometry Geometry(ZoomInCrop c, double ratio) =>
        new(c.Crop.Left, c.Crop.Top, c.Side, c.Resolution, c.ModelBox.Left, c.ModelBox.Top, c.ModelBox.Width, c.ModelBox.Height, ratio);
}
