namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// The reference crop (docs/preprocessing.md, "Reference crop"): the box expanded about its centre by e, clipped to the
/// image, padded to a square with the content centred, resized to the reference encoder size S.
/// </summary>
/// <param name="Content">The expanded, clipped rectangle in image pixels.</param>
/// <param name="Side">Side of the padded square: max(content width, height).</param>
/// <param name="PadLeft">(Side - width) // 2.</param>
/// <param name="PadTop">(Side - height) // 2.</param>
/// <param name="Size">S.</param>
public sealed record ReferenceCrop(PixelRect Content, int Side, int PadLeft, int PadTop, int Size)
{
    /// <summary>The resize rule for side -> S.</summary>
    public ResampleMode Mode => Resample.ModelRule(Side, Size);

    public static ReferenceCrop Plan(int imageWidth, int imageHeight, BoxF box, double expand, int size)
    {
        if (imageWidth <= 0 || imageHeight <= 0) throw new ArgumentOutOfRangeException(nameof(imageWidth), $"image size must be positive, got {imageWidth}x{imageHeight}");
        box.Validate(nameof(box));
        if (!double.IsFinite(expand) || expand <= 0) throw new ArgumentOutOfRangeException(nameof(expand), $"expansion must be positive, got {expand}");
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), $"reference size must be positive, got {size}");
        double w = expand * box.Width, h = expand * box.Height;
        var rect = PixelRect.FromCorners(
            (int)Math.Floor(box.CenterX - w / 2), (int)Math.Floor(box.CenterY - h / 2),
            (int)Math.Ceiling(box.CenterX + w / 2), (int)Math.Ceiling(box.CenterY + h / 2)).ClipTo(imageWidth, imageHeight);
        if (rect.IsEmpty) throw new ArgumentException($"reference box {box} expanded by {expand} does not overlap the {imageWidth}x{imageHeight} image", nameof(box));
        int side = Math.Max(rect.Width, rect.Height);
        return new ReferenceCrop(rect, side, (side - rect.Width) / 2, (side - rect.Height) / 2, size);
    }

    /// <summary>Crops, pads (0) and resizes one display-space channel into an S x S destination.</summary>
    public void Extract(ReadOnlySpan<float> display, int imageWidth, int imageHeight, Span<float> destination)
    {
        if (destination.Length != Size * Size) throw new ArgumentException($"destination must hold {Size}x{Size} samples", nameof(destination));
        var square = ZoomInCrop.CropWithPadding(display, imageWidth, imageHeight,
            new PixelRect(Content.Left - PadLeft, Content.Top - PadTop, Side, Side));
        // CropWithPadding already zeroes what lies outside the image; also zero what lies inside the image but outside the
        // content (the padding is defined by the content rectangle, not by the image border).
        for (int y = 0; y < Side; y++)
        {
            var row = square.AsSpan(y * Side, Side);
            if (y < PadTop || y >= PadTop + Content.Height) { row.Clear(); continue; }
            row[..PadLeft].Clear();
            row[(PadLeft + Content.Width)..].Clear();
        }
        Resample.Resize(square, Side, Side, 1, destination, Size, Size, Mode);
    }

    /// <summary>
    /// The support mask at S x S: the Side x Side content indicator (1 on the non-padding area) carried through the same
    /// resize, a pixel being content when at least half of it comes from content (value &gt;= 0.5). The indicator is a
    /// product of two 1-D indicators and the resize is separable, so the value is <c>py[j] px[i]</c>, computed in double.
    /// </summary>
    public byte[] SupportMask()
    {
        var px = Resample.IndicatorProfile(Side, Size, PadLeft, Content.Width, Mode);
        var py = Resample.IndicatorProfile(Side, Size, PadTop, Content.Height, Mode);
        var mask = new byte[Size * Size];
        for (int j = 0; j < Size; j++)
            for (int i = 0; i < Size; i++)
                mask[j * Size + i] = py[j] * px[i] >= 0.5 ? (byte)1 : (byte)0;
        return mask;
    }
}
