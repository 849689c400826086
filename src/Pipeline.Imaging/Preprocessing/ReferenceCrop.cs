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
    public ResampleMode Mode => Resample.ModelRule(Side, Side, Size, Size);

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
    /// The support mask at S x S: 1 where the pixel centre maps into the content, i.e. a nearest-neighbour resize with
    /// half-pixel centres of the Side x Side content indicator: pixel i is set when <c>padLeft &lt;= (i + 0.5) Side / S &lt; padLeft + width</c>.
    /// </summary>
    public byte[] SupportMask()
    {
        var mask = new byte[Size * Size];
        double f = (double)Side / Size;
        Span<bool> cols = Size <= 4096 ? stackalloc bool[Size] : new bool[Size];
        for (int i = 0; i < Size; i++) { double u = (i + 0.5) * f; cols[i] = u >= PadLeft && u < PadLeft + Content.Width; }
        for (int j = 0; j < Size; j++)
        {
            double v = (j + 0.5) * f;
            if (v < PadTop || v >= PadTop + Content.Height) continue;
            for (int i = 0; i < Size; i++) mask[j * Size + i] = cols[i] ? (byte)1 : (byte)0;
        }
        return mask;
    }
}
