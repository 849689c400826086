namespace Pipeline.Driving.Rendering;

/// <summary>An 8-bit RGB raster (row-major, interleaved) to draw pictures for people on.</summary>
public sealed class RgbCanvas
{
    public RgbCanvas(int width, int height, byte[]? rgb = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"canvas size must be positive, got {width}x{height}");
        Width = width; Height = height;
        Pixels = rgb ?? new byte[width * height * 3];
        if (Pixels.Length != width * height * 3) throw new ArgumentException($"an RGB canvas of {width}x{height} holds {width * height * 3} bytes", nameof(rgb));
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public void Set(int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int p = 3 * (y * Width + x);
        Pixels[p] = c.R; Pixels[p + 1] = c.G; Pixels[p + 2] = c.B;
    }

    public void Fill((byte R, byte G, byte B) c)
    {
        for (int p = 0; p < Pixels.Length; p += 3) { Pixels[p] = c.R; Pixels[p + 1] = c.G; Pixels[p + 2] = c.B; }
    }

    /// <summary>A line of the given thickness (square brush), clipped to the canvas.</summary>
    public void Line(double x0, double y0, double x1, double y1, (byte R, byte G, byte B) c, int thickness = 1)
    {
        if (!double.IsFinite(x0 + y0 + x1 + y1)) return;
        // clip very long lines (corners far outside the image) to a generous box first
        double limit = 4.0 * Math.Max(Width, Height);
        if (Math.Abs(x0) > limit || Math.Abs(x1) > limit || Math.Abs(y0) > limit || Math.Abs(y1) > limit) return;
        int steps = (int)Math.Ceiling(Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0))) + 1;
        int r = thickness / 2;
        for (int i = 0; i <= steps; i++)
        {
            double t = (double)i / steps;
            int x = (int)Math.Round(x0 + (x1 - x0) * t), y = (int)Math.Round(y0 + (y1 - y0) * t);
            for (int dy = -r; dy <= r; dy++)
                for (int dx = -r; dx <= r; dx++) Set(x + dx, y + dy, c);
        }
    }

    public void Disc(double cx, double cy, double radius, (byte R, byte G, byte B) c)
    {
        for (int y = (int)Math.Floor(cy - radius); y <= (int)Math.Ceiling(cy + radius); y++)
            for (int x = (int)Math.Floor(cx - radius); x <= (int)Math.Ceiling(cx + radius); x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius) Set(x, y, c);
    }
}
