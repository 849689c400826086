using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Compositing;

/// <summary>What <see cref="CameraComposite.Paste"/> changed: the window it may touch (image pixels, clipped) and how many
/// pixels differ from the source.</summary>
public sealed record CameraCompositeResult(byte[] Rgb, int Left, int Top, int Right, int Bottom, int ChangedPixels);

/// <summary>
/// MObI's camera paste-back (thesis §2.3.5 / §4, following POC's Gaussian blending; docs/driving.md, "Compositing"):
/// the edited D x D crop is sampled back onto the image (bilinear, half-pixel centres, edges clamped), and blended with
/// alpha = min(1, 2 (G_σ * m)), where m is the projected box's convex hull in image pixels (pixel centres inside or on
/// it) and G_σ a Gaussian truncated at r = ceil(3σ). Inside the hull alpha is 1 wherever the hull is at least as wide
/// as the kernel, and it falls to 0 within r pixels outside it: every pixel farther than r (the margin) from the hull
/// keeps its source bytes exactly. Blend in [0, 255]: out = floor(α e + (1 − α) o + 0.5), e = clamp((v + 1) 127.5, 0, 255).
/// </summary>
public static class CameraComposite
{
    /// <summary>σ of the blending Gaussian in image pixels (the thesis does not give it; docs/driving.md).</summary>
    public const double DefaultSigma = 2.0;

    public static int Margin(double sigma) => (int)Math.Ceiling(3 * sigma);

    /// <param name="rgb">The source image, interleaved RGB bytes, width x height.</param>
    /// <param name="cropLeft">The crop square's left in image pixels (may be outside the image).</param>
    /// <param name="cropTop">Its top.</param>
    /// <param name="cropSide">Its side in image pixels.</param>
    /// <param name="edited">The edited crop, 3 x D x D planar in [-1, 1].</param>
    /// <param name="resolution">D.</param>
    /// <param name="hullU">The projected box corners in image pixels.</param>
    /// <param name="hullV">Their rows.</param>
    public static CameraCompositeResult Paste(ReadOnlySpan<byte> rgb, int width, int height, int cropLeft, int cropTop, int cropSide,
        ReadOnlySpan<float> edited, int resolution, ReadOnlySpan<double> hullU, ReadOnlySpan<double> hullV, double sigma = DefaultSigma)
    {
        if (rgb.Length != width * height * 3) throw new ArgumentException($"the image must hold {width}x{height}x3 bytes", nameof(rgb));
        if (edited.Length != 3 * resolution * resolution) throw new ArgumentException($"the edited crop must hold 3x{resolution}x{resolution} values", nameof(edited));
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), "sigma must be positive");
        int r = Margin(sigma);
        // the hull's window, grown by 2r so the blur of the mask is exact inside the r-margin (zero beyond)
        double minU = double.MaxValue, maxU = double.MinValue, minV = double.MaxValue, maxV = double.MinValue;
        for (int i = 0; i < hullU.Length; i++) { minU = Math.Min(minU, hullU[i]); maxU = Math.Max(maxU, hullU[i]); minV = Math.Min(minV, hullV[i]); maxV = Math.Max(maxV, hullV[i]); }
        int wx0 = (int)Math.Floor(minU) - 2 * r, wy0 = (int)Math.Floor(minV) - 2 * r;
        int ww = (int)Math.Ceiling(maxU) + 2 * r + 1 - wx0, wh = (int)Math.Ceiling(maxV) + 2 * r + 1 - wy0;
        var us = new double[hullU.Length]; var vs = new double[hullV.Length];
        for (int i = 0; i < us.Length; i++) { us[i] = hullU[i] - wx0; vs[i] = hullV[i] - wy0; }
        var mask = new float[ww * wh];
        ConvexMask.Fill(us, vs, ww, wh, mask);
        var alpha = Blur(mask, ww, wh, sigma, r);

        var result = rgb.ToArray();
        int n = resolution * resolution, changed = 0;
        double scale = (double)resolution / cropSide;
        int x0 = Math.Max(0, wx0), y0 = Math.Max(0, wy0), x1 = Math.Min(width, wx0 + ww), y1 = Math.Min(height, wy0 + wh);
        for (int y = y0; y < y1; y++)
        {
            double cy = (y + 0.5 - cropTop) * scale - 0.5;
            for (int x = x0; x < x1; x++)
            {
                double a = Math.Min(1.0, 2.0 * alpha[(y - wy0) * ww + (x - wx0)]);
                if (a <= 0) continue;
                double cx = (x + 0.5 - cropLeft) * scale - 0.5;
                bool any = false;
                for (int c = 0; c < 3; c++)
                {
                    double v = Bilinear(edited.Slice(c * n, n), resolution, cx, cy);
                    double e = Math.Clamp((v + 1) * 127.5, 0, 255);
                    int k = (y * width + x) * 3 + c;
                    byte o = rgb[k];
                    byte b = (byte)Math.Clamp(Math.Floor(a * e + (1 - a) * o + 0.5), 0, 255);
                    result[k] = b;
                    any |= b != o;
                }
                if (any) changed++;
            }
        }
        return new CameraCompositeResult(result, x0, y0, x1, y1, changed);
    }

    /// <summary>Bilinear sample of a D x D plane at continuous pixel coordinates (centres at integers), edges clamped.</summary>
    internal static double Bilinear(ReadOnlySpan<float> plane, int d, double x, double y)
    {
        x = Math.Clamp(x, 0, d - 1); y = Math.Clamp(y, 0, d - 1);
        int xa = (int)Math.Floor(x), ya = (int)Math.Floor(y);
        int xb = Math.Min(d - 1, xa + 1), yb = Math.Min(d - 1, ya + 1);
        double fx = x - xa, fy = y - ya;
        double top = plane[ya * d + xa] * (1 - fx) + plane[ya * d + xb] * fx;
        double bottom = plane[yb * d + xa] * (1 - fx) + plane[yb * d + xb] * fx;
        return top * (1 - fy) + bottom * fy;
    }

    /// <summary>Separable Gaussian blur (weights exp(−k²/2σ²) for |k| ≤ r, normalised), zero outside the plane.</summary>
    internal static double[] Blur(float[] plane, int w, int h, double sigma, int r)
    {
        var k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += k[i + r] = Math.Exp(-i * i / (2 * sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] /= sum;
        var tmp = new double[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int i = -r; i <= r; i++) { int xx = x + i; if (xx >= 0 && xx < w) s += k[i + r] * plane[y * w + xx]; }
                tmp[y * w + x] = s;
            }
        var result = new double[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int i = -r; i <= r; i++) { int yy = y + i; if (yy >= 0 && yy < h) s += k[i + r] * tmp[yy * w + x]; }
                result[y * w + x] = s;
            }
        return result;
    }
}
