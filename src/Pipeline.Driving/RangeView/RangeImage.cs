using System.Buffers;

namespace Pipeline.Driving.RangeView;

/// <summary>
/// The model's range input x^(R) for one object (thesis §2.3.2): the object-centric view normalised
/// (<see cref="DepthNormalisation"/>) and resized to D x D (<see cref="RangeResize"/>), as two planes, with the
/// resized edit mask. <see cref="ToObjectCentric"/> is the way back (§2.3.5): resize to H x W^(R) (average pooling),
/// then denormalise.
/// </summary>
public sealed record RangeImage(RangeCrop Crop, DepthNormalisation Normalisation, int Resolution, float[] Depth, float[] Intensity, float[] Mask)
{
    /// <summary>Crops the view around the box, normalises and resizes to D x D.</summary>
    public static RangeImage Create(RangeView view, RangeBox box, int resolution, double alpha = DepthNormalisation.DefaultAlpha)
    {
        if (resolution <= 0) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution must be positive, got {resolution}");
        var crop = RangeCrop.Plan(box, view.Height);
        var norm = DepthNormalisation.ForBox(box.Depths, alpha, view.Options.MaxDepth);
        int n = crop.Height * crop.CropWidth;
        var buffer = ArrayPool<float>.Shared.Rent(n);
        try
        {
            var plane = buffer.AsSpan(0, n);
            var d = GC.AllocateUninitializedArray<float>(resolution * resolution);
            crop.Extract(view.Depth, plane);
            norm.Normalise(plane, plane);
            RangeResize.Resize(plane, crop.CropWidth, crop.Height, d, resolution, resolution);
            var i = GC.AllocateUninitializedArray<float>(resolution * resolution);
            crop.Extract(view.Intensity, plane);
            DepthNormalisation.NormaliseIntensity(plane, plane);
            RangeResize.Resize(plane, crop.CropWidth, crop.Height, i, resolution, resolution);
            return new RangeImage(crop, norm, resolution, d, i, crop.Mask(resolution, resolution));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Back to the object-centric view (H x W^(R)) in metres and [0, 255].</summary>
    public (float[] Depth, float[] Intensity) ToObjectCentric() => ToObjectCentric(Depth, Intensity);

    /// <summary>Back to the object-centric view from edited D x D planes (e.g. a decoder's output).</summary>
    public (float[] Depth, float[] Intensity) ToObjectCentric(ReadOnlySpan<float> depth, ReadOnlySpan<float> intensity)
    {
        var d = new float[Crop.Height * Crop.CropWidth];
        var i = new float[d.Length];
        RangeResize.Resize(depth, Resolution, Resolution, d, Crop.CropWidth, Crop.Height);
        RangeResize.Resize(intensity, Resolution, Resolution, i, Crop.CropWidth, Crop.Height);
        Normalisation.Denormalise(d, d);
        DepthNormalisation.DenormaliseIntensity(i, i);
        return (d, i);
    }
}
