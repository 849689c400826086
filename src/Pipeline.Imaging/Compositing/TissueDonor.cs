using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Compositing;

/// <summary>Where a box's replacement tissue comes from: the box shifted by (<see cref="OffsetX"/>, <see cref="OffsetY"/>)
/// source pixels, and how well its surroundings matched the box's (<see cref="Score"/>: mean squared difference of the
/// two rings after removing their mean difference, display units squared).</summary>
public readonly record struct DonorWindow(int OffsetX, int OffsetY, double Score);

/// <summary>
/// Finding the tissue that replaces an old lesion (docs/preprocessing.md, "Replacement: tissue from the image itself"):
/// a replacement removes the lesion in the box, so the box needs the tissue that would be there without it, which the
/// image does not show. As exemplar-based inpainting does (Criminisi, Pérez and Toyama 2004, "Region filling and object
/// removal by exemplar-based image inpainting", IEEE TIP 13(9), sec. III: the source patch whose known part best matches
/// the target patch's known part), the donor is the window of the same image, the box shifted by an offset, whose
/// surroundings best match the box's own surroundings: the ring of pixels within Chebyshev distance
/// <c>ring = max(3, round(min(w, h) / 4))</c> outside the box. The offsets tried are the multiples of
/// <c>step = max(1, round(min(w, h) / 4))</c> within <c>2.5 max(w, h)</c> on each axis whose shifted box, grown by the larger of
/// the ring and the compositing margin, lies in the image and does not touch the box grown by the margin (the donor must not contain the old lesion); the score
/// is <c>mean((t - d)^2) - mean(t - d)^2</c> over the ring (t the box's ring, d the donor's): the offset between the two
/// is left to the border matching that follows (<see cref="BoundaryMatch"/>); where the box's own ring leaves the image,
/// the part inside it is compared. The lowest score wins, the first in scan
/// order (offset y, then x, ascending) on a tie. Pure, deterministic, float64 sums.
/// </summary>
public static class TissueDonor
{
    /// <summary>The donor window of <paramref name="box"/> in a one-channel <paramref name="display"/> image; null when no
    /// offset is admissible (a box too large for its image).</summary>
    public static DonorWindow? Find(ReadOnlySpan<float> display, int width, int height, PixelRect box, int margin)
    {
        if (width <= 0 || height <= 0 || display.Length != width * height)
            throw new ArgumentException($"tissue donor: the image must hold {width}x{height} samples, got {display.Length}", nameof(display));
        if (box.IsEmpty) throw new ArgumentOutOfRangeException(nameof(box), $"tissue donor: box {box} is empty");
        if (margin < 0) throw new ArgumentOutOfRangeException(nameof(margin), $"tissue donor: margin must be >= 0, got {margin}");
        int small = Math.Min(box.Width, box.Height);
        int ring = Math.Max(3, (int)Math.Round(small / 4.0, MidpointRounding.AwayFromZero));
        int step = Math.Max(1, (int)Math.Round(small / 4.0, MidpointRounding.AwayFromZero));
        int reach = (int)Math.Floor(2.5 * Math.Max(box.Width, box.Height));
        var outer = box.Inflate(Math.Max(ring, margin)); // the ring compared and the margin composited
        var keepOut = box.Inflate(margin);
        // The box's ring pixels inside the image, in RingScore's scan order: each offset then sums over this list alone,
        // with the same terms in the same order as RingScore (the same score to the last bit).
        var ringPixels = RingPixels(width, height, box, ring);
        DonorWindow? best = null;
        for (int dy = -(reach / step) * step; dy <= reach; dy += step)
            for (int dx = -(reach / step) * step; dx <= reach; dx += step)
            {
                var shifted = new PixelRect(outer.Left + dx, outer.Top + dy, outer.Width, outer.Height);
                if (shifted.Left < 0 || shifted.Top < 0 || shifted.Right > width || shifted.Bottom > height) continue;
                if (Overlaps(shifted, keepOut)) continue;
                double score = RingScore(display, width, height, ringPixels, dx, dy);
                if (double.IsNaN(score)) continue;
                if (best is null || score < best.Value.Score) best = new DonorWindow(dx, dy, score);
            }
        return best;
    }

    /// <summary>mean((t - d)^2) - mean(t - d)^2 over the ring pixels of the box that lie in the image (t at the pixel,
    /// d at the pixel shifted by the offset); NaN when none does.</summary>
    public static double RingScore(ReadOnlySpan<float> display, int width, int height, PixelRect box, int ring, int dx, int dy)
    {
        double sum = 0, sumSq = 0;
        long count = 0;
        var outer = box.Inflate(ring);
        for (int y = Math.Max(outer.Top, 0); y < Math.Min(outer.Bottom, height); y++)
            for (int x = Math.Max(outer.Left, 0); x < Math.Min(outer.Right, width); x++)
            {
                if (box.Contains(x, y)) continue;
                int sx = x + dx, sy = y + dy;
                if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
                double d = (double)display[y * width + x] - display[sy * width + sx];
                sum += d;
                sumSq += d * d;
                count++;
            }
        if (count == 0) return double.NaN;
        double mean = sum / count;
        return sumSq / count - mean * mean;
    }

    /// <summary>The ring pixels of <see cref="RingScore(ReadOnlySpan{float}, int, int, PixelRect, int, int, int)"/> that lie
    /// in the image, as (x, y) in its scan order.</summary>
    private static (int X, int Y)[] RingPixels(int width, int height, PixelRect box, int ring)
    {
        var outer = box.Inflate(ring);
        var pixels = new List<(int, int)>();
        for (int y = Math.Max(outer.Top, 0); y < Math.Min(outer.Bottom, height); y++)
            for (int x = Math.Max(outer.Left, 0); x < Math.Min(outer.Right, width); x++)
                if (!box.Contains(x, y)) pixels.Add((x, y));
        return [.. pixels];
    }

    /// <summary><see cref="RingScore(ReadOnlySpan{float}, int, int, PixelRect, int, int, int)"/> over precomputed ring pixels.</summary>
    private static double RingScore(ReadOnlySpan<float> display, int width, int height, (int X, int Y)[] ringPixels, int dx, int dy)
    {
        double sum = 0, sumSq = 0;
        long count = 0;
        foreach (var (x, y) in ringPixels)
        {
            int sx = x + dx, sy = y + dy;
            if ((uint)sx >= (uint)width || (uint)sy >= (uint)height) continue;
            double d = (double)display[y * width + x] - display[sy * width + sx];
            sum += d;
            sumSq += d * d;
            count++;
        }
        if (count == 0) return double.NaN;
        double mean = sum / count;
        return sumSq / count - mean * mean;
    }

    private static bool Overlaps(PixelRect a, PixelRect b) => a.Left < b.Right && b.Left < a.Right && a.Top < b.Bottom && b.Top < a.Bottom;
}
