namespace Pipeline.Driving.Geometry;

/// <summary>
/// The edit mask of a projected box (thesis §2.3.1-2.3.2: the box "inpainted" as 1 into a zero matrix): a pixel is 1
/// when its centre (x + 0.5, y + 0.5) lies inside or on the convex hull of the projected corners.
/// </summary>
public static class ConvexMask
{
    /// <summary>Fills <paramref name="mask"/> (width x height, overwritten) with the hull of the points (xs[i], ys[i]).</summary>
    public static void Fill(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, int width, int height, Span<float> mask)
    {
        if (mask.Length != width * height) throw new ArgumentException($"mask must hold {width}x{height} samples", nameof(mask));
        mask.Clear();
        var hull = Hull(xs, ys);
        if (hull.Count < 3) return;
        // scanline fill of the convex hull: on each row the covered centres form one interval [xl, xr]
        double minY = double.MaxValue, maxY = double.MinValue;
        foreach (var p in hull) { minY = Math.Min(minY, p.Y); maxY = Math.Max(maxY, p.Y); }
        int y0 = Math.Max(0, (int)Math.Ceiling(minY - 0.5)), y1 = Math.Min(height - 1, (int)Math.Floor(maxY - 0.5));
        for (int y = y0; y <= y1; y++)
        {
            double yc = y + 0.5, xl = double.MaxValue, xr = double.MinValue;
            for (int i = 0; i < hull.Count; i++)
            {
                var (a, b) = (hull[i], hull[(i + 1) % hull.Count]);
                if (yc < Math.Min(a.Y, b.Y) || yc > Math.Max(a.Y, b.Y)) continue;
                if (a.Y == b.Y) { xl = Math.Min(xl, Math.Min(a.X, b.X)); xr = Math.Max(xr, Math.Max(a.X, b.X)); continue; }
                double x = a.X + (b.X - a.X) * (yc - a.Y) / (b.Y - a.Y);
                xl = Math.Min(xl, x); xr = Math.Max(xr, x);
            }
            if (xl > xr) continue;
            int x0 = Math.Max(0, (int)Math.Ceiling(xl - 0.5)), x1 = Math.Min(width - 1, (int)Math.Floor(xr - 0.5));
            if (x1 >= x0) mask.Slice(y * width + x0, x1 - x0 + 1).Fill(1f);
        }
    }

    /// <summary>The convex hull, counter-clockwise (monotone chain), collinear points dropped.</summary>
    public static List<(double X, double Y)> Hull(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys)
    {
        var pts = new List<(double X, double Y)>(xs.Length);
        for (int i = 0; i < xs.Length; i++) pts.Add((xs[i], ys[i]));
        pts.Sort((a, b) => a.X != b.X ? a.X.CompareTo(b.X) : a.Y.CompareTo(b.Y));
        if (pts.Count < 3) return pts;
        var hull = new List<(double X, double Y)>(2 * pts.Count);
        for (int pass = 0; pass < 2; pass++)
        {
            int start = hull.Count;
            foreach (var p in pts)
            {
                while (hull.Count >= start + 2 && Cross(hull[^2], hull[^1], p) <= 0) hull.RemoveAt(hull.Count - 1);
                hull.Add(p);
            }
            hull.RemoveAt(hull.Count - 1);
            pts.Reverse();
        }
        return hull;
    }

    private static double Cross((double X, double Y) o, (double X, double Y) a, (double X, double Y) b) =>
        (a.X - o.X) * (b.Y - o.Y) - (a.Y - o.Y) * (b.X - o.X);
}
