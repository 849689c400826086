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
        double minY = hull.Min(p => p.Y), maxY = hull.Max(p => p.Y), minX = hull.Min(p => p.X), maxX = hull.Max(p => p.X);
        int y0 = Math.Max(0, (int)Math.Floor(minY - 0.5)), y1 = Math.Min(height - 1, (int)Math.Ceiling(maxY));
        int x0 = Math.Max(0, (int)Math.Floor(minX - 0.5)), x1 = Math.Min(width - 1, (int)Math.Ceiling(maxX));
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
                if (Inside(hull, x + 0.5, y + 0.5)) mask[y * width + x] = 1f;
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

    private static bool Inside(List<(double X, double Y)> hull, double x, double y)
    {
        for (int i = 0; i < hull.Count; i++)
            if (Cross(hull[i], hull[(i + 1) % hull.Count], (x, y)) < 0) return false;
        return true;
    }
}
