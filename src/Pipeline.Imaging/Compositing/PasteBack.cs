using System.Numerics.Tensors;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Compositing;

public sealed record CompositeOptions
{
    /// <summary>Pixels around the box that are blended (AnyDoor crop_back: 5).</summary>
    public int Margin { get; init; } = 5;
    /// <summary>Gaussian feather sigma in pixels; 0 pastes box + margin hard (AnyDoor's crop_back without blending).</summary>
    public double FeatherSigma { get; init; } = 2.0;
    /// <summary>Lowest stored value written (default: the pixel type's minimum; none for Float32). E.g. 0 for BitsStored 12.</summary>
    public double? StoredMin { get; init; }
    /// <summary>Highest stored value written (default: the pixel type's maximum; none for Float32). E.g. 4095 for BitsStored 12.</summary>
    public double? StoredMax { get; init; }
    public static CompositeOptions Default { get; } = new();
}

/// <summary>
/// Pastes a generated zoom-in crop back into the full-resolution source (docs/preprocessing.md, "Compositing"):
/// model space -> display (clamped) -> resized to side x side (<see cref="ResampleMode.Bilinear"/>) -> stored values via
/// the caller's inverse mapping -> blended with the feathered alpha of <see cref="FeatherAlpha"/> -> rounded half to even
/// and clamped to the stored range, in the source's pixel type. Pixels where alpha is 0 (everything beyond box + margin)
/// are left bit-identical. Only the pixels of box + margin are resampled, whatever the crop side.
/// <para>
/// With a <c>targetDisplay</c> (the target's one-channel display rendering), the band the crop's resampling removes is
/// added back before the inverse mapping: <c>resize(generated) + targetDisplay - resize(extract(targetDisplay))</c>,
/// clamped to [0, 1] (docs/preprocessing.md, "Keeping the target's texture"); a generated crop equal to the extracted
/// target then composites to the target itself, at full resolution. With a <c>detailOffset</c>, the band is the one of
/// the window shifted by it (a replacement's tissue donor, docs/preprocessing.md "Replacement: tissue from the image
/// itself"): <c>targetDisplay(p + offset) - resize(extract(targetDisplay, crop + offset))(p)</c> for p in the box (the
/// integer cover of <c>box</c>), the target's own band in the margin around it (the output shows the target there); the
/// shifted box and margin must lie in the image.
/// </para>
/// </summary>
public static class PasteBack
{
    /// <summary>A new image: <paramref name="source"/> with the generated crop pasted in. <paramref name="source"/> is not modified.</summary>
    public static ImageBuffer Composite(ImageBuffer source, ReadOnlySpan<float> generatedModel, ZoomInCrop crop, BoxF box,
        DisplayToStored toStored, CompositeOptions? options = null, ImageBuffer? targetDisplay = null, (int X, int Y) detailOffset = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var result = source.Clone();
        try
        {
            CompositeInPlace(result, generatedModel, crop, box, toStored, options, targetDisplay, detailOffset);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Pastes into <paramref name="target"/> in place; returns the rectangle of pixels that may have changed.</summary>
    public static PixelRect CompositeInPlace(ImageBuffer target, ReadOnlySpan<float> generatedModel, ZoomInCrop crop, BoxF box,
        DisplayToStored toStored, CompositeOptions? options = null, ImageBuffer? targetDisplay = null, (int X, int Y) detailOffset = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(crop);
        ArgumentNullException.ThrowIfNull(toStored);
        options ??= CompositeOptions.Default;
        box.Validate(nameof(box));
        int r = crop.Resolution, ch = target.Channels;
        if (generatedModel.Length != r * r * ch)
            throw new ArgumentException($"generated crop has {generatedModel.Length} samples, expected {r}x{r}x{ch} for {target}", nameof(generatedModel));
        if (options.Margin < 0) throw new ArgumentOutOfRangeException(nameof(options), $"margin must be >= 0, got {options.Margin}");
        if (!(options.FeatherSigma >= 0) || !double.IsFinite(options.FeatherSigma)) throw new ArgumentOutOfRangeException(nameof(options), $"feather sigma must be finite and >= 0, got {options.FeatherSigma}");
        var (min, max) = StoredRange(target.PixelType, options);
        if (targetDisplay is not null && (targetDisplay.Channels != 1 || ch != 1 || targetDisplay.PixelType != PixelType.Float32 ||
                                          targetDisplay.Width != target.Width || targetDisplay.Height != target.Height))
            throw new ArgumentException($"the target's display rendering must be one Float32 channel of {target.Width}x{target.Height} over a one-channel target " +
                                        $"(got {targetDisplay.Width}x{targetDisplay.Height}x{targetDisplay.Channels} {targetDisplay.PixelType} for {target})", nameof(targetDisplay));

        var boxRect = box.Cover();
        // Only the crop has generated content; blending stops at its edge even if the margin would reach further.
        var region = Intersect(boxRect.Inflate(options.Margin).ClipTo(target.Width, target.Height), crop.Crop);
        if (region.IsEmpty) return region;

        var display = new float[generatedModel.Length];
        ModelSpace.ToDisplay(generatedModel, display);
        int rowLength = region.Width * ch;
        var resized = new float[region.Height * rowLength];
        var window = new PixelRect(region.Left - crop.Crop.Left, region.Top - crop.Crop.Top, region.Width, region.Height);
        Resample.ResizeWindow(display, r, r, ch, crop.Side, crop.Side, window, resized, ResampleMode.Bilinear);
        if (targetDisplay is not null)
        {
            var shifted = new PixelRect(region.Left + detailOffset.X, region.Top + detailOffset.Y, region.Width, region.Height);
            if (shifted.Left < 0 || shifted.Top < 0 || shifted.Right > target.Width || shifted.Bottom > target.Height)
                throw new ArgumentOutOfRangeException(nameof(detailOffset), $"the detail window {shifted} (offset {detailOffset}) leaves the {target.Width}x{target.Height} image");
            var band = ResamplingDetail(targetDisplay, crop with { Crop = new PixelRect(crop.Crop.Left + detailOffset.X, crop.Crop.Top + detailOffset.Y, crop.Side, crop.Side) },
                shifted, window);
            // a donor's band belongs in the box; around it (the blended margin) the band is the target's own
            var own = detailOffset == default ? band : ResamplingDetail(targetDisplay, crop, region, window);
            for (int y = 0; y < region.Height; y++)
                for (int x = 0; x < region.Width; x++)
                {
                    int i = y * region.Width + x;
                    float d = boxRect.Contains(region.Left + x, region.Top + y) ? band[i] : own[i];
                    resized[i] = Math.Clamp(resized[i] + d, 0f, 1f);
                }
        }

        var stored = new float[rowLength];
        var current = new float[rowLength];
        var alpha = new float[rowLength];
        var ax = FeatherProfile(region.Left, region.Width, boxRect.Left, boxRect.Right, options.Margin, options.FeatherSigma);
        var ay = FeatherProfile(region.Top, region.Height, boxRect.Top, boxRect.Bottom, options.Margin, options.FeatherSigma);
        for (int y = 0; y < region.Height; y++)
        {
            if (ay[y] == 0) continue;
            toStored(resized.AsSpan(y * rowLength, rowLength), stored);
            for (int x = 0; x < region.Width; x++) alpha.AsSpan(x * ch, ch).Fill(ax[x] * ay[y]);
            int row = region.Top + y, first = region.Left * ch;
            switch (target.PixelType)
            {
                case PixelType.UInt8:
                {
                    var dst = target.Row<byte>(row).Slice(first, rowLength);
                    for (int i = 0; i < rowLength; i++) current[i] = dst[i];
                    Blend(current, stored, alpha, min, max);
                    for (int i = 0; i < rowLength; i++) if (alpha[i] != 0) dst[i] = (byte)MathF.Round(current[i]);
                    break;
                }
                case PixelType.UInt16:
                {
                    var dst = target.Row<ushort>(row).Slice(first, rowLength);
                    for (int i = 0; i < rowLength; i++) current[i] = dst[i];
                    Blend(current, stored, alpha, min, max);
                    for (int i = 0; i < rowLength; i++) if (alpha[i] != 0) dst[i] = (ushort)MathF.Round(current[i]);
                    break;
                }
                default:
                {
                    var dst = target.Row<float>(row).Slice(first, rowLength);
                    dst.CopyTo(current);
                    Blend(current, stored, alpha, min, max);
                    for (int i = 0; i < rowLength; i++) if (alpha[i] != 0) dst[i] = current[i];
                    break;
                }
            }
        }
        return region;
    }

    /// <summary>targetDisplay - resize(extract(targetDisplay)) over the region (one channel; the region and the crop shifted
    /// alike for a donor's band).</summary>
    private static float[] ResamplingDetail(ImageBuffer targetDisplay, ZoomInCrop crop, PixelRect region, PixelRect window)
    {
        int r = crop.Resolution;
        var pixels = targetDisplay.Pixels<float>();
        var low = new float[r * r];
        crop.Extract(pixels, targetDisplay.Width, targetDisplay.Height, low);
        var band = new float[region.Width * region.Height];
        Resample.ResizeWindow(low, r, r, 1, crop.Side, crop.Side, window, band, ResampleMode.Bilinear);
        for (int y = 0; y < region.Height; y++)
        {
            var row = pixels.Slice((region.Top + y) * targetDisplay.Width + region.Left, region.Width);
            for (int x = 0; x < region.Width; x++) band[y * region.Width + x] = row[x] - band[y * region.Width + x];
        }
        return band;
    }

    /// <summary>current = clamp(current + alpha (stored - current)); alpha 1 gives exactly the stored value.</summary>
    private static void Blend(Span<float> current, Span<float> stored, ReadOnlySpan<float> alpha, float min, float max)
    {
        for (int i = 0; i < current.Length; i++)
            current[i] = alpha[i] == 1f ? stored[i] : current[i] + alpha[i] * (stored[i] - current[i]);
        TensorPrimitives.Max(current, min, current);
        TensorPrimitives.Min(current, max, current);
    }

    /// <summary>
    /// The feathered alpha over box + margin, separable: <c>alpha(x, y) = g(dx) g(dy)</c>, where d is the distance in whole
    /// pixels outside the integer box along that axis and
    /// <c>g(0) = 1</c>, <c>g(d) = (G(d) - G(m + 1)) / (1 - G(m + 1))</c> for 1 &lt;= d &lt;= m, <c>g(d) = 0</c> beyond, with
    /// <c>G(d) = exp(-d^2 / (2 sigma^2))</c>. So alpha is exactly 1 inside the box, exactly 0 beyond the margin, and
    /// inside the margin a Gaussian fall-off of the Euclidean distance to the box (<c>G(dx) G(dy) = G(|(dx, dy)|)</c>)
    /// shifted to reach 0 one pixel past the margin. Sigma 0: alpha 1 on the whole of box + margin.
    /// Returned for the rectangle <paramref name="box"/> grown by <paramref name="margin"/>, row-major.
    /// </summary>
    public static float[] FeatherAlpha(PixelRect box, int margin, double sigma)
    {
        var region = box.Inflate(margin);
        var ax = FeatherProfile(region.Left, region.Width, box.Left, box.Right, margin, sigma);
        var ay = FeatherProfile(region.Top, region.Height, box.Top, box.Bottom, margin, sigma);
        var alpha = new float[region.Width * region.Height];
        for (int y = 0; y < region.Height; y++) TensorPrimitives.Multiply(ax, ay[y], alpha.AsSpan(y * region.Width, region.Width));
        return alpha;
    }

    private static float[] FeatherProfile(int first, int count, int boxStart, int boxEnd, int margin, double sigma)
    {
        var g = new float[count];
        double tail = sigma > 0 ? Math.Exp(-(margin + 1.0) * (margin + 1.0) / (2 * sigma * sigma)) : 0;
        for (int i = 0; i < count; i++)
        {
            int p = first + i;
            int d = p < boxStart ? boxStart - p : p >= boxEnd ? p - boxEnd + 1 : 0;
            if (d == 0) g[i] = 1f;
            else if (d > margin) g[i] = 0f;
            else if (sigma == 0) g[i] = 1f;
            else g[i] = (float)((Math.Exp(-(double)d * d / (2 * sigma * sigma)) - tail) / (1 - tail));
        }
        return g;
    }

    private static (float Min, float Max) StoredRange(PixelType type, CompositeOptions options)
    {
        double lo = options.StoredMin ?? type switch { PixelType.UInt8 => 0, PixelType.UInt16 => 0, _ => float.MinValue };
        double hi = options.StoredMax ?? type switch { PixelType.UInt8 => 255, PixelType.UInt16 => 65535, _ => float.MaxValue };
        if (type == PixelType.UInt8) { lo = Math.Max(lo, 0); hi = Math.Min(hi, 255); }
        if (type == PixelType.UInt16) { lo = Math.Max(lo, 0); hi = Math.Min(hi, 65535); }
        if (!(lo <= hi)) throw new ArgumentOutOfRangeException(nameof(options), $"stored range [{lo}, {hi}] is empty");
        return ((float)lo, (float)hi);
    }

    private static PixelRect Intersect(PixelRect a, PixelRect b) =>
        PixelRect.FromCorners(Math.Max(a.Left, b.Left), Math.Max(a.Top, b.Top), Math.Min(a.Right, b.Right), Math.Min(a.Bottom, b.Bottom));
}
