using Pipeline.Driving.Camera;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Driving.Compositing;

/// <summary>
/// What only the full-resolution camera output shows (docs/driving.md, "Metrics"): the detail measure
/// (docs/metrics.md, "Detail") of the composited image against the source at the projected box's 2D bounds, on the
/// luminance (0.299 R + 0.587 G + 0.114 B; the measure is a ratio, so the scale does not matter). A 32 px crop
/// upsampled over a box of hundreds of pixels scores well below 0. Only the window the measure filters is converted.
/// </summary>
public static class CameraDetail
{
    /// <summary>The item metric's key: "camera/detail", reported at the box.</summary>
    public const string Key = "camera/detail";

    public static IReadOnlyDictionary<string, double> Measure(ReadOnlySpan<byte> source, ReadOnlySpan<byte> output, int width, int height, Box2 box)
    {
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        int x0 = Math.Clamp((int)Math.Floor(box.X0), 0, width), y0 = Math.Clamp((int)Math.Floor(box.Y0), 0, height);
        int x1 = Math.Clamp((int)Math.Ceiling(box.X1), 0, width), y1 = Math.Clamp((int)Math.Ceiling(box.Y1), 0, height);
        if (x1 <= x0 || y1 <= y0) return metrics;
        // the box grown by the texture measure's ring and kernel radius: its values on the box are the whole image's
        int pad = TextureOptions.Default.RingWidth + TextureOptions.Default.Radius;
        int wx0 = Math.Max(0, x0 - pad), wy0 = Math.Max(0, y0 - pad), wx1 = Math.Min(width, x1 + pad), wy1 = Math.Min(height, y1 + pad);
        int ww = wx1 - wx0, wh = wy1 - wy0;
        var at = new SeamBox(x0 - wx0, y0 - wy0, x1 - x0, y1 - y0);
        if (DetailMeasure.Compute(Luminance(output, width, wx0, wy0, ww, wh), Luminance(source, width, wx0, wy0, ww, wh), ww, wh, at) is { } d)
            metrics[Key] = d;
        return metrics;
    }

    private static float[] Luminance(ReadOnlySpan<byte> rgb, int width, int left, int top, int w, int h)
    {
        var result = new float[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int k = ((top + y) * width + left + x) * 3;
                result[y * w + x] = (float)(0.299 * rgb[k] + 0.587 * rgb[k + 1] + 0.114 * rgb[k + 2]);
            }
        return result;
    }
}
