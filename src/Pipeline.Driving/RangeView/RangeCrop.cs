using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.RangeView;

/// <summary>
/// MObI's object-centric range crop (thesis §2.3.2 "Range view to range image processing"; widths and resize from the
/// public implementation): the range view tiled ×3 horizontally so a crop may wrap around ±π, cut width-wise around the
/// box to H x W^(R) with W^(R) = max(64, min(512, 2^ceil(log2(1.5 w)))) (w: the box's width in columns), centred on the
/// box; then resized to D x D by <see cref="RangeResize"/>. The box's corners follow the same viewport transform; the
/// edit mask m^(R) is their convex hull. Column c of the crop is view column (Start + c) mod W, which is what indexing
/// the ×3 tiling at Start + W reads (crops are never wider than W).
/// </summary>
/// <param name="Start">First view column (may be negative or past W: taken modulo W).</param>
/// <param name="CropWidth">W^(R).</param>
/// <param name="Height">H (32).</param>
/// <param name="ViewWidth">W (1096).</param>
/// <param name="Box">The box in view coordinates.</param>
public sealed record RangeCrop(int Start, int CropWidth, int Height, int ViewWidth, RangeBox Box)
{
    public const int MinCropWidth = 64;
    public const int MaxCropWidth = 512;

    /// <summary>W^(R) = max(64, min(512, 2^ceil(log2(1.5 w)))); 64 for a box narrower than one column.</summary>
    public static int CropWidthFor(double boxColumns)
    {
        double wanted = 1.5 * boxColumns;
        if (!(wanted > 1)) return MinCropWidth;
        double pow = Math.Pow(2, Math.Ceiling(Math.Log2(wanted)));
        return (int)Math.Max(MinCropWidth, Math.Min(MaxCropWidth, pow));
    }

    public static RangeCrop Plan(RangeBox box, int height = RangeViewOptions.DefaultHeight)
    {
        int width = CropWidthFor(box.ColumnSpan);
        if (width > box.ViewWidth) throw new ArgumentOutOfRangeException(nameof(box), $"a crop of {width} columns does not fit a {box.ViewWidth}-column view");
        double centre = (box.MinColumn + box.MaxColumn) / 2;
        return new RangeCrop((int)Math.Floor(centre - width / 2.0), width, height, box.ViewWidth, box);
    }

    /// <summary>The view column read by crop column <paramref name="c"/>.</summary>
    public int ViewColumn(int c) => ((Start + c) % ViewWidth + ViewWidth) % ViewWidth;

    /// <summary>Cuts one H x W plane of the view into H x W^(R) (the object-centric range view).</summary>
    public float[] Extract(ReadOnlySpan<float> viewPlane)
    {
        var result = new float[Height * CropWidth];
        Extract(viewPlane, result);
        return result;
    }

    /// <summary>Cuts one H x W plane of the view into <paramref name="destination"/> (H x W^(R), row-major).</summary>
    public void Extract(ReadOnlySpan<float> viewPlane, Span<float> destination)
    {
        if (viewPlane.Length != Height * ViewWidth) throw new ArgumentException($"a view plane holds {Height}x{ViewWidth} samples, got {viewPlane.Length}", nameof(viewPlane));
        if (destination.Length != Height * CropWidth) throw new ArgumentException($"a crop plane holds {Height}x{CropWidth} samples, got {destination.Length}", nameof(destination));
        // per row, the crop is at most two contiguous runs of view columns (it wraps around once at most)
        int first = ViewColumn(0), run = Math.Min(CropWidth, ViewWidth - first);
        for (int r = 0; r < Height; r++)
        {
            var source = viewPlane.Slice(r * ViewWidth, ViewWidth);
            var row = destination.Slice(r * CropWidth, CropWidth);
            source.Slice(first, run).CopyTo(row);
            if (run < CropWidth) source[..(CropWidth - run)].CopyTo(row[run..]);
        }
    }

    /// <summary>The inverse of <see cref="Extract"/>: writes an H x W^(R) plane back into the view's columns.</summary>
    public void Restore(ReadOnlySpan<float> cropPlane, Span<float> viewPlane)
    {
        if (cropPlane.Length != Height * CropWidth) throw new ArgumentException($"a crop plane holds {Height}x{CropWidth} samples, got {cropPlane.Length}", nameof(cropPlane));
        if (viewPlane.Length != Height * ViewWidth) throw new ArgumentException($"a view plane holds {Height}x{ViewWidth} samples, got {viewPlane.Length}", nameof(viewPlane));
        for (int c = 0; c < CropWidth; c++)
        {
            int v = ViewColumn(c);
            for (int r = 0; r < Height; r++) viewPlane[r * ViewWidth + v] = cropPlane[r * CropWidth + c];
        }
    }

    /// <summary>Corner columns in a crop resized to <paramref name="width"/> columns (W^(R) itself by default).</summary>
    public double[] CornerColumns(int? width = null) => Box.Columns.Select(c => (c - Start) * (width ?? CropWidth) / (double)CropWidth).ToArray();

    /// <summary>Corner rows in a crop resized to <paramref name="height"/> rows.</summary>
    public double[] CornerRows(int? height = null) => Box.Rows.Select(r => r * (height ?? Height) / (double)Height).ToArray();

    /// <summary>The edit mask m^(R) at <paramref name="width"/> x <paramref name="height"/> (D x D, or W^(R) x H).</summary>
    public float[] Mask(int width, int height)
    {
        var mask = GC.AllocateUninitializedArray<float>(width * height); // Fill clears it
        ConvexMask.Fill(CornerColumns(width), CornerRows(height), width, height, mask);
        return mask;
    }
}
