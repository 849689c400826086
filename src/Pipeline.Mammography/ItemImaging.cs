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
        var (pasted, alphaFull) = CopyPasteBaseline.Composite(target.Display.Pixels<float>(), target.Width, target.Height, box,
            reference.Display.Pixels<float>(), reference.Width, reference.Height, referenceBox);
        var copyPaste = new float[n];
        crop.Extract(pasted, target.Width, target.Height, copyPaste);
        var copyPasteModel = new float[n];
        ModelSpace.FromDisplay(copyPaste, copyPasteModel);
        var alpha = new float[n];
        crop.Extract(alphaFull, target.Width, target.Height, alpha);
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
        bool keep = preparation.TargetTextureSigma > 0;
        return new PreparedItem(bundle, Geometry(crop, ratio) with
        {
            TextureSigma = keep && item.Mode == TaskMode.Insertion ? preparation.TargetTextureSigma : 0,
            KeepDetail = keep && item.Mode is TaskMode.Insertion or TaskMode.Reinsertion,
        });
    }

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
            return PasteBack.Composite(target.Stored, KeptSample(generated, original, crop.Mask(), geometry), crop, LesionPlanner.ToBoxF(box), target.ToStored(), options,
                geometry.KeepDetail ? target.Display : null);
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

    /// <summary>The sample as the output shows it at model resolution: the generated lesion over the target's own tissue
    /// (<see cref="TargetTexture"/>) when the geometry says so, else the sample itself. Both model space.</summary>
    public static float[] KeptSample(float[] sample, float[] original, float[] mask, CropGeometry geometry) =>
        geometry.TextureSigma > 0 ? TargetTexture.Keep(sample, original, mask, geometry.Resolution, geometry.TextureSigma) : sample;

    /// <summary>The zoom-in crop a geometry describes.</summary>
    public static ZoomInCrop ToCrop(CropGeometry g) => new(new PixelRect(g.Left, g.Top, g.Side, g.Side), g.Resolution, new PixelRect(g.BoxLeft, g.BoxTop, g.BoxWidth, g.BoxHeight));

    /// <summary>The geometry of a zoom-in crop drawn with <paramref name="ratio"/>.</summary>
    public static CropGeometry Geometry(ZoomInCrop c, double ratio) =>
        new(c.Crop.Left, c.Crop.Top, c.Side, c.Resolution, c.ModelBox.Left, c.ModelBox.Top, c.ModelBox.Width, c.ModelBox.Height, ratio);
}
