using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Compositing;

/// <summary>Where a box's replacement tissue comes from: the box shifted by (<see cref="OffsetX"/>, <see cref="OffsetY"/>)
/// source pixels, and how well its surroundings matched the box's (<see cref="Score"/>, <see cref="TissueDonor.RingScore"/>).</summary>
public readonly record struct DonorWindow(int OffsetX, int OffsetY, double Score);

/// <summary>
/// Finding the tissue that replaces an old lesion (docs/preprocessing.md, "Replacement: tissue from the image itself"):
/// a replacement removes the lesion in the box, so the box needs the tissue that would be there without it, which the
/// image does not show. As exemplar-based inpainting does (Criminisi, Pérez and Toyama 2004, "Region filling and object
/// removal by exemplar-based image inpainting", IEEE TIP 13(9), sec. III: the source patch whose known part best matches
/// the target patch's known part), the donor is the window of the same image, the box shifted by an offset, whose
/// surroundings best match the box's own surroundings: the ring of pixels within Chebyshev distance
/// <c>ring = max(3, round(min(w, h) / 4))</c> outside the box (the part of it inside the image).
/// <para>
/// Offsets tried: every integer offset within <c>2.5 max(w, h)</c> on each axis (a coarser grid misaligns a straight
/// edge crossing the box, the pectoral muscle's or the skin's, by up to half its step) whose shifted box, grown by the
/// larger of the ring and the compositing margin, lies in the image and does not touch the box grown by the margin (the
/// donor must not contain the old lesion). With an air mask (the DICOM's padding: outside the breast), a donor must not
/// bring air where the target has tissue: no pixel of the box grown by the margin may be air in the donor and tissue in
/// the target (where the target is air, the output keeps the target's air; see <see cref="RestoreAir"/>).
/// </para>
/// <para>
/// Score (<see cref="RingScore"/>): the variance of the difference of the two rings normalised by their standard
/// deviations, <c>var(t - d) / max(sd(t) sd(d), floor^2)</c>, floor = 1/255, t the box's ring and d the donor's
/// = <c>2 (1 - rho) + (sd(t) - sd(d))^2 / (sd(t) sd(d))</c>, rho their correlation: the same structure (rho near 1) at the
/// same contrast. The offset between the two means is left to the border matching that follows
/// (<see cref="BoundaryMatch"/>). Unnormalised, <c>var(t - d) = var(t) + var(d) - 2 cov</c> ranks a flat window (air, a
/// saturated region) above every tissue window that is not strongly correlated with the ring, and the box got a smooth
/// membrane or the skin line of the breast edge.
/// </para>
/// The lowest score wins, the first in scan order (offset y, then x, ascending) on a tie. The cross term of all offsets
/// is computed at once by <see cref="Correlation2D"/> and the ring sums of the donor by summed-area tables; the offsets
/// whose score lies within 1e-9 (relative) of the lowest are rescored by the direct sums of <see cref="RingScore"/>,
/// so the choice is the definition's. Pure, deterministic, float64.
/// </summary>
public static class TissueDonor
{
    /// <summary>Standard deviation below which a ring counts as flat (display units): one 8-bit grey level.</summary>
    public const double Floor = 1.0 / 255;

    /// <summary>The ring width (and grid step of earlier versions) of a box: <c>max(3, round(min(w, h) / 4))</c>.</summary>
    public static int RingWidth(PixelRect box) => Math.Max(3, (int)Math.Round(Math.Min(box.Width, box.Height) / 4.0, MidpointRounding.AwayFromZero));

    /// <summary>The donor window of <paramref name="box"/> in a one-channel <paramref name="display"/> image; null when no
    /// offset is admissible (a box too large for its image). <paramref name="air"/>: empty, or one flag per pixel, true
    /// outside the body (padding). <paramref name="avoid"/>: regions no donor may take tissue from (the image's other
    /// annotated findings): an offset whose shifted box, grown by the margin, touches one of them is not admissible.</summary>
    public static DonorWindow? Find(ReadOnlySpan<float> display, int width, int height, PixelRect box, int margin, ReadOnlySpan<bool> air = default,
        IReadOnlyList<PixelRect>? avoid = null)
    {
        if (width <= 0 || height <= 0 || display.Length != width * height)
            throw new ArgumentException($"tissue donor: the image must hold {width}x{height} samples, got {display.Length}", nameof(display));
        if (!air.IsEmpty && air.Length != display.Length)
            throw new ArgumentException($"tissue donor: the air mask must hold {width}x{height} flags, got {air.Length}", nameof(air));
        if (box.IsEmpty) throw new ArgumentOutOfRangeException(nameof(box), $"tissue donor: box {box} is empty");
        if (margin < 0) throw new ArgumentOutOfRangeException(nameof(margin), $"tissue donor: margin must be >= 0, got {margin}");
        int ring = RingWidth(box);
        int reach = (int)Math.Floor(2.5 * Math.Max(box.Width, box.Height));
        var grown = box.Inflate(Math.Max(ring, margin)); // the ring compared and the margin composited
        var keepOut = box.Inflate(margin);
        var outer = box.Inflate(ring).ClipTo(width, height);
        var inner = box.ClipTo(width, height);
        long n = outer.Area - inner.Area;
        if (n == 0) return null;

        // the target's ring as a kernel (box pixels 0) and its sums
        var kernel = new double[outer.Width * outer.Height];
        double st = 0, stt = 0;
        for (int y = outer.Top; y < outer.Bottom; y++)
            for (int x = outer.Left; x < outer.Right; x++)
            {
                if (inner.Contains(x, y)) continue;
                double v = display[y * width + x];
                kernel[(y - outer.Top) * outer.Width + x - outer.Left] = v;
                st += v; stt += v * v;
            }
        // every shifted window (ring and margin) of an admissible offset lies in this region
        var region = new PixelRect(grown.Left - reach, grown.Top - reach, grown.Width + 2 * reach, grown.Height + 2 * reach).ClipTo(width, height);
        var image = new double[region.Width * region.Height];
        for (int y = 0; y < region.Height; y++)
            for (int x = 0; x < region.Width; x++) image[y * region.Width + x] = display[(y + region.Top) * width + x + region.Left];
        var cross = Correlation2D.Valid(image, region.Width, region.Height, kernel, outer.Width, outer.Height);
        int cw = region.Width - outer.Width + 1;
        var (sum, sumSq) = SummedAreaTables(image, region.Width, region.Height);

        // air: the shifted zone (box grown by the margin) without any air passes the rule at once; one with air is
        // checked pixel by pixel, lowest score first, only while it could still win
        double[]? airTable = null;
        var zone = keepOut.ClipTo(width, height);
        if (!air.IsEmpty)
        {
            // the count of air pixels: a summed-area table of the flags, made straight from the mask
            bool any = false;
            for (int y = 0; y < region.Height && !any; y++) any = air.Slice((y + region.Top) * width + region.Left, region.Width).Contains(true);
            if (any) airTable = CountTable(air, width, region);
        }
        var scores = new List<(double Score, int Dy, int Dx)>();
        var toCheck = new List<(double Score, int Dy, int Dx)>();
        double lowest = double.PositiveInfinity;
        for (int dy = -reach; dy <= reach; dy++)
            for (int dx = -reach; dx <= reach; dx++)
            {
                var shifted = new PixelRect(grown.Left + dx, grown.Top + dy, grown.Width, grown.Height);
                if (shifted.Left < 0 || shifted.Top < 0 || shifted.Right > width || shifted.Bottom > height) continue;
                if (Overlaps(shifted, keepOut)) continue;
                if (avoid is not null && TouchesAny(new PixelRect(keepOut.Left + dx, keepOut.Top + dy, keepOut.Width, keepOut.Height), avoid)) continue;
                int u = outer.Left + dx - region.Left, v = outer.Top + dy - region.Top;
                int bx = inner.Left + dx - region.Left, by = inner.Top + dy - region.Top;
                double sd = Rect(sum, region.Width, u, v, outer.Width, outer.Height) - Rect(sum, region.Width, bx, by, inner.Width, inner.Height);
                double sdd = Rect(sumSq, region.Width, u, v, outer.Width, outer.Height) - Rect(sumSq, region.Width, bx, by, inner.Width, inner.Height);
                var c = (Score(st, stt, sd, sdd, cross[v * cw + u], n), dy, dx);
                if (airTable is not null && Rect(airTable, region.Width, zone.Left + dx - region.Left, zone.Top + dy - region.Top, zone.Width, zone.Height) > 0.5)
                    toCheck.Add(c);
                else
                {
                    scores.Add(c);
                    lowest = Math.Min(lowest, c.Item1);
                }
            }
        toCheck.Sort();
        foreach (var c in toCheck)
        {
            if (c.Score > lowest + Tolerance(lowest)) break;
            if (BringsAir(air, width, height, keepOut, c.Dx, c.Dy)) continue;
            scores.Add(c);
            lowest = Math.Min(lowest, c.Score);
        }
        if (double.IsPositiveInfinity(lowest)) return null;

        // the exact scores of the near-ties decide
        DonorWindow? best = null;
        foreach (var c in scores)
        {
            if (c.Score > lowest + Tolerance(lowest)) continue;
            double exact = RingScore(display, width, height, box, ring, c.Dx, c.Dy);
            if (best is null || exact < best.Value.Score ||
                (exact == best.Value.Score && (c.Dy < best.Value.OffsetY || (c.Dy == best.Value.OffsetY && c.Dx < best.Value.OffsetX))))
                best = new DonorWindow(c.Dx, c.Dy, exact);
        }
        return best;
    }

    /// <summary>How far above the lowest FFT score an offset is still rescored exactly.</summary>
    private static double Tolerance(double lowest) => 1e-9 * Math.Abs(lowest) + 1e-12;

    /// <summary><c>var(t - d) / max(sd(t) sd(d), Floor^2)</c> over the ring pixels of the box that lie in the image (t at
    /// the pixel, d at the pixel shifted by the offset, skipped where that leaves the image), by direct float64 sums; NaN
    /// when no pixel counts.</summary>
    public static double RingScore(ReadOnlySpan<float> display, int width, int height, PixelRect box, int ring, int dx, int dy)
    {
        double st = 0, stt = 0, sd = 0, sdd = 0, std = 0;
        long count = 0;
        var outer = box.Inflate(ring);
        for (int y = Math.Max(outer.Top, 0); y < Math.Min(outer.Bottom, height); y++)
            for (int x = Math.Max(outer.Left, 0); x < Math.Min(outer.Right, width); x++)
            {
                if (box.Contains(x, y)) continue;
                int sx = x + dx, sy = y + dy;
                if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
                double t = display[y * width + x], d = display[sy * width + sx];
                st += t; stt += t * t; sd += d; sdd += d * d; std += t * d;
                count++;
            }
        return count == 0 ? double.NaN : Score(st, stt, sd, sdd, std, count);
    }

    /// <summary>Where the target shows air (padding), the output keeps the target: <paramref name="output"/>'s pixels in
    /// <paramref name="region"/> that are air in <paramref name="air"/> are set to <paramref name="target"/>'s (a lesion
    /// lies in tissue; a donor at the breast edge aligned to a pixel or two must not paint tissue into the air).</summary>
    public static void RestoreAir<T>(Span<T> output, ReadOnlySpan<T> target, ReadOnlySpan<bool> air, int width, int height, PixelRect region) where T : unmanaged
    {
        if (output.Length != width * height || target.Length != output.Length || air.Length != output.Length)
            throw new ArgumentException($"tissue donor: output, target and air mask must hold {width}x{height} samples (got {output.Length}, {target.Length}, {air.Length})");
        var r = region.ClipTo(width, height);
        for (int y = r.Top; y < r.Bottom; y++)
            for (int x = r.Left; x < r.Right; x++)
            {
                int i = y * width + x;
                if (air[i]) output[i] = target[i];
            }
    }

    private static double Score(double st, double stt, double sd, double sdd, double std, long n)
    {
        double mt = st / n, md = sd / n;
        double vt = Math.Max(stt / n - mt * mt, 0), vd = Math.Max(sdd / n - md * md, 0);
        double vdiff = Math.Max((stt - 2 * std + sdd) / n - (mt - md) * (mt - md), 0);
        return vdiff / Math.Max(Math.Sqrt(vt * vd), Floor * Floor);
    }

    /// <summary>Whether a pixel of <paramref name="zone"/> (clipped to the image) is air at the offset and tissue at itself.</summary>
    private static bool BringsAir(ReadOnlySpan<bool> air, int width, int height, PixelRect zone, int dx, int dy)
    {
        var z = zone.ClipTo(width, height);
        for (int y = z.Top; y < z.Bottom; y++)
            for (int x = z.Left; x < z.Right; x++)
                if (air[(y + dy) * width + x + dx] && !air[y * width + x]) return true;
        return false;
    }

    /// <summary>Summed-area tables of a w x h image and of its squares, (w + 1) x (h + 1), with a zero first row and column.</summary>
    private static (double[] Sum, double[] SumSq) SummedAreaTables(double[] a, int w, int h)
    {
        var s = new double[(w + 1) * (h + 1)];
        var q = new double[(w + 1) * (h + 1)];
        for (int y = 0; y < h; y++)
        {
            double rs = 0, rq = 0;
            for (int x = 0; x < w; x++)
            {
                double v = a[y * w + x];
                rs += v; rq += v * v;
                s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + rs;
                q[(y + 1) * (w + 1) + x + 1] = q[y * (w + 1) + x + 1] + rq;
            }
        }
        return (s, q);
    }

    /// <summary>Summed-area table, (w + 1) x (h + 1) with a zero first row and column, of the flags of
    /// <paramref name="region"/> in an image <paramref name="width"/> wide (1 where set): what <see cref="SummedAreaTables"/>
    /// gives for the region as 0/1 values, without the region's copy or its table of squares.</summary>
    private static double[] CountTable(ReadOnlySpan<bool> flags, int width, PixelRect region)
    {
        int w = region.Width, h = region.Height;
        var s = new double[(w + 1) * (h + 1)];
        for (int y = 0; y < h; y++)
        {
            var row = flags.Slice((y + region.Top) * width + region.Left, w);
            double rs = 0;
            for (int x = 0; x < w; x++)
            {
                if (row[x]) rs += 1;
                s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + rs;
            }
        }
        return s;
    }

    /// <summary>The sum over [x, x + w) x [y, y + h) from a summed-area table of an image <paramref name="width"/> wide.</summary>
    private static double Rect(double[] table, int width, int x, int y, int w, int h)
    {
        if (w <= 0 || h <= 0) return 0;
        int stride = width + 1;
        return table[(y + h) * stride + x + w] - table[y * stride + x + w] - table[(y + h) * stride + x] + table[y * stride + x];
    }

    private static bool TouchesAny(PixelRect zone, IReadOnlyList<PixelRect> regions)
    {
        foreach (var r in regions)
            if (!r.IsEmpty && Overlaps(zone, r)) return true;
        return false;
    }

    private static bool Overlaps(PixelRect a, PixelRect b) => a.Left < b.Right && b.Left < a.Right && a.Top < b.Bottom && b.Top < a.Bottom;
}
