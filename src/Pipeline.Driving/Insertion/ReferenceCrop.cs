using Pipeline.Driving.Camera;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Driving.Insertion;

/// <summary>
/// MObI's reference image (thesis §2.3.1, "Reference selection"): the minimal 2D box enclosing the projected source 3D
/// box (clipped to the image) cut from the source frame's camera image and resized to S x S (Paint-by-Example's square
/// reference; the box is stretched, not padded), 3 x S x S planar RGB in [-1, 1]. An empty-box reference (remove the
/// object) is all zeros (<see cref="Empty"/>).
/// </summary>
public static class ReferenceCrop
{
    /// <summary>The reference of the object projected as <paramref name="projection"/> in an RGB image (bytes, interleaved).</summary>
    public static float[] Extract(ReadOnlySpan<byte> rgb, int width, int height, ProjectedBox projection, int size)
    {
        if (size < 4) throw new ArgumentOutOfRangeException(nameof(size), $"reference size must be at least 4, got {size}");
        var b = projection.ClippedBounds;
        if (b.IsEmpty) throw new InvalidDataException($"the reference box {projection.Bounds} does not overlap the {width}x{height} image");
        int x0 = (int)Math.Floor(b.X0), y0 = (int)Math.Floor(b.Y0), x1 = Math.Min(width, (int)Math.Ceiling(b.X1)), y1 = Math.Min(height, (int)Math.Ceiling(b.Y1));
        var region = PixelRect.FromCorners(x0, y0, Math.Max(x1, x0 + 1), Math.Max(y1, y0 + 1));
        var image = new float[rgb.Length];
        for (int i = 0; i < image.Length; i++) image[i] = rgb[i] / 127.5f - 1f;
        var interleaved = new float[size * size * 3];
        Resample.ResizeRegion(image, width, height, 3, region, interleaved, size, size, Resample.ModelRule(region.Width, size), Resample.ModelRule(region.Height, size));
        int n = size * size;
        var planar = new float[3 * n];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 3; c++) planar[c * n + i] = interleaved[3 * i + c];
        return planar;
    }

    /// <summary>The empty-box reference: all zeros ("remove the object").</summary>
    public static float[] Empty(int size) => new float[3 * size * size];
}
