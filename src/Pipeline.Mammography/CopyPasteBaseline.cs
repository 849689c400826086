using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Mammography;

/// <summary>
/// The copy&amp;paste baseline (the thesis's Table 3.1 baseline, docs/e2e.md "Copy&amp;paste baseline"): the reference's
/// box region pasted into the target's box with the run's own compositing (<see cref="PasteBack"/>'s feathered alpha:
/// 1 in the box, a Gaussian fall-off over the margin), in display space at full resolution. The reference region is
/// scaled onto the target box (replacement boxes differ by up to 15%; an insertion box has the reference's size) and
/// sampled bilinearly; around the box the margin shows the reference's own surroundings, blended as the model's output
/// would be. Pure: display images in, display images out.
/// </summary>
public static class CopyPasteBaseline
{
    /// <summary>The target with the reference's box pasted in (a new array) and the compositing alpha (a new array of the
    /// target's size: 1 in the box, feathered over the margin, 0 elsewhere).</summary>
    public static (float[] Composite, float[] Alpha) Composite(ReadOnlySpan<float> target, int width, int height, BoxF targetBox,
        ReadOnlySpan<float> reference, int referenceWidth, int referenceHeight, BoxF referenceBox, CompositeOptions? options = null) =>
        Composite(target, width, height, targetBox, reference, referenceWidth, referenceHeight, referenceBox, new PixelRect(0, 0, width, height), options);

    /// <summary>The same composite and alpha, only inside <paramref name="window"/> (a rectangle inside the target; both
    /// arrays are the window's size, row-major): every value equals the whole image's at the same pixel, so a crop read
    /// from the window is the crop of the whole composite while only the window is computed (preprocess cuts a zoom-in
    /// crop of a few hundred pixels from a full-resolution mammogram).</summary>
    public static (float[] Composite, float[] Alpha) Composite(ReadOnlySpan<float> target, int width, int height, BoxF targetBox,
        ReadOnlySpan<float> reference, int referenceWidth, int referenceHeight, BoxF referenceBox, PixelRect window, CompositeOptions? options = null)
    {
        options ??= CompositeOptions.Default;
        targetBox.Validate(nameof(targetBox));
        referenceBox.Validate(nameof(referenceBox));
        if (target.Length != width * height) throw new ArgumentException($"copy&paste: target holds {target.Length} samples, not {width}x{height}", nameof(target));
        if (reference.Length != referenceWidth * referenceHeight)
            throw new ArgumentException($"copy&paste: reference holds {reference.Length} samples, not {referenceWidth}x{referenceHeight}", nameof(reference));
        if (window.IsEmpty || window.ClipTo(width, height) != window)
            throw new ArgumentOutOfRangeException(nameof(window), $"copy&paste: window {window} must be non-empty and inside the {width}x{height} target");
        int ww = window.Width;
        var composite = new float[ww * window.Height];
        for (int y = 0; y < window.Height; y++)
            target.Slice((window.Top + y) * width + window.Left, ww).CopyTo(composite.AsSpan(y * ww, ww));
        var alphaImage = new float[composite.Length];
        var box = targetBox.Cover();
        var grown = box.Inflate(options.Margin);
        var alpha = PasteBack.FeatherAlpha(box, options.Margin, options.FeatherSigma);
        // Target pixel centre (x + 0.5) -> reference coordinate: the target box maps linearly onto the reference box.
        double sx = referenceBox.Width / targetBox.Width, sy = referenceBox.Height / targetBox.Height;
        for (int gy = 0; gy < grown.Height; gy++)
        {
            int y = grown.Top + gy;
            if (y < window.Top || y >= window.Bottom) continue;
            double ry = referenceBox.Y0 + (y + 0.5 - targetBox.Y0) * sy - 0.5;
            for (int gx = 0; gx < grown.Width; gx++)
            {
                int x = grown.Left + gx;
                float a = alpha[gy * grown.Width + gx];
                if (x < window.Left || x >= window.Right || a == 0) continue;
                double rx = referenceBox.X0 + (x + 0.5 - targetBox.X0) * sx - 0.5;
                float pasted = Bilinear(reference, referenceWidth, referenceHeight, rx, ry);
                int i = (y - window.Top) * ww + x - window.Left;
                float t = target[y * width + x];
                composite[i] = t + a * (pasted - t);
                alphaImage[i] = a;
            }
        }
        return (composite, alphaImage);
    }

    /// <summary>Bilinear sample at pixel coordinates (centres at integers), edges clamped.</summary>
    private static float Bilinear(ReadOnlySpan<float> image, int width, int height, double x, double y)
    {
        x = Math.Clamp(x, 0, width - 1);
        y = Math.Clamp(y, 0, height - 1);
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        int x1 = Math.Min(x0 + 1, width - 1), y1 = Math.Min(y0 + 1, height - 1);
        double fx = x - x0, fy = y - y0;
        double top = image[y0 * width + x0] * (1 - fx) + image[y0 * width + x1] * fx;
        double bottom = image[y1 * width + x0] * (1 - fx) + image[y1 * width + x1] * fx;
        return (float)(top * (1 - fy) + bottom * fy);
    }
}
