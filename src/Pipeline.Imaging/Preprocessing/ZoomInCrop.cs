namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// AnyDoor's "zoom-in" target crop (docs/preprocessing.md, "Zoom-in crop"): a square of side
/// <c>max(8, ceil(r max(bw, bh)))</c> centred on the box, zero-padded where it leaves the image, resized to the model
/// resolution R by <see cref="Resample.ModelRule"/>.
/// </summary>
/// <param name="Crop">The square in image pixels, <c>[left, left + side) x [top, top + side)</c>; may extend outside the image.</param>
/// <param name="Resolution">Model resolution R.</param>
/// <param name="ModelBox">The box in model coordinates, clipped to [0, R]; the mask is 1 on it.</param>
public sealed record ZoomInCrop(PixelRect Crop, int Resolution, PixelRect ModelBox)
{
    public int Side => Crop.Width;

    /// <summary>s = R / side.</summary>
    public double Scale => (double)Resolution / Side;

    /// <summary>The resize rule for side -> R (the same on both axes of the square).</summary>
    public ResampleMode Mode => Resample.ModelRule(Side, Resolution);

    /// <summary>Plans the crop for <paramref name="box"/> in a <paramref name="imageWidth"/> x <paramref name="imageHeight"/> image.</summary>
    public static ZoomInCrop Plan(int imageWidth, int imageHeight, BoxF box, double ratio, int resolution)
    {
        if (imageWidth <= 0 || imageHeight <= 0) throw new ArgumentOutOfRangeException(nameof(imageWidth), $"image size must be positive, got {imageWidth}x{imageHeight}");
        box.Validate(nameof(box));
        if (!double.IsFinite(ratio) || ratio <= 0) throw new ArgumentOutOfRangeException(nameof(ratio), $"crop ratio must be positive, got {ratio}");
        if (resolution <= 0) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution must be positive, got {resolution}");

        double side = Math.Max(8, Math.Ceiling(ratio * Math.Max(box.Width, box.Height)));
        if (side > 1 << 20) throw new ArgumentOutOfRangeException(nameof(ratio), $"crop side {side} for box {box} and ratio {ratio} is unreasonably large");
        int s = (int)side;
        int left = (int)Math.Floor(box.CenterX - s / 2.0);
        int top = (int)Math.Floor(box.CenterY - s / 2.0);
        double scale = (double)resolution / s;
        var modelBox = PixelRect.FromCorners(
            Math.Clamp((int)Math.Floor((box.X0 - left) * scale), 0, resolution),
            Math.Clamp((int)Math.Floor((box.Y0 - top) * scale), 0, resolution),
            Math.Clamp((int)Math.Ceiling((box.X1 - left) * scale), 0, resolution),
            Math.Clamp((int)Math.Ceiling((box.Y1 - top) * scale), 0, resolution));
        return new ZoomInCrop(new PixelRect(left, top, s, s), resolution, modelBox);
    }

    /// <summary>Crops (zero padding) and resizes one display-space channel into an R x R destination.</summary>
    public void Extract(ReadOnlySpan<float> display, int imageWidth, int imageHeight, Span<float> destination) =>
        Extract(display, imageWidth, imageHeight, 1, destination);

    /// <summary>Crops (zero padding) and resizes an interleaved display-space image (e.g. RGB camera frames) into R x R x channels.</summary>
    public void Extract(ReadOnlySpan<float> display, int imageWidth, int imageHeight, int channels, Span<float> destination)
    {
        if (destination.Length != Resolution * Resolution * channels) throw new ArgumentException($"destination must hold {Resolution}x{Resolution}x{channels} samples", nameof(destination));
        Resample.ResizeRegion(display, imageWidth, imageHeight, channels, Crop, destination, Resolution, Resolution, Mode, Mode);
    }

    /// <summary>The box mask, R x R, 1 on <see cref="ModelBox"/>.</summary>
    public float[] Mask()
    {
        var mask = new float[Resolution * Resolution];
        BoxMask.Fill(mask, Resolution, Resolution, ModelBox);
        return mask;
    }

    /// <summary>Copies <paramref name="rect"/> of a one-channel image into a new packed array, 0 where it leaves the image.</summary>
    public static float[] CropWithPadding(ReadOnlySpan<float> image, int width, int height, PixelRect rect)
    {
        if (image.Length != (long)width * height) throw new ArgumentException($"image has {image.Length} samples, expected {width}x{height}", nameof(image));
        var result = new float[checked(rect.Width * rect.Height)];
        var inside = rect.ClipTo(width, height);
        for (int y = inside.Top; y < inside.Bottom; y++)
            image.Slice(y * width + inside.Left, inside.Width).CopyTo(result.AsSpan((y - rect.Top) * rect.Width + inside.Left - rect.Left, inside.Width));
        return result;
    }
}

/// <summary>Rectangular masks.</summary>
public static class BoxMask
{
    /// <summary>Sets <paramref name="mask"/> (width x height, zeroed first) to 1 on <paramref name="rect"/> clipped to the mask.</summary>
    public static void Fill(Span<float> mask, int width, int height, PixelRect rect)
    {
        if (mask.Length != width * height) throw new ArgumentException($"mask must hold {width}x{height} samples", nameof(mask));
        mask.Clear();
        var c = rect.ClipTo(width, height);
        for (int y = c.Top; y < c.Bottom; y++) mask.Slice(y * width + c.Left, c.Width).Fill(1f);
    }

    /// <summary>A 0/1 byte mask of <paramref name="rect"/>, eroded by a <paramref name="erosion"/>-square (see <see cref="BinaryMorphology"/>); erosion 0 or 1 leaves it unchanged.</summary>
    public static byte[] Eroded(int width, int height, PixelRect rect, int erosion)
    {
        var mask = new byte[width * height];
        var c = rect.ClipTo(width, height);
        for (int y = c.Top; y < c.Bottom; y++) mask.AsSpan(y * width + c.Left, c.Width).Fill(1);
        if (erosion <= 1) return mask;
        var eroded = new byte[mask.Length];
        BinaryMorphology.ErodeSquare(mask, width, height, erosion, eroded);
        return eroded;
    }
}
