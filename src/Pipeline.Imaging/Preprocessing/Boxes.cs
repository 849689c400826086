namespace Pipeline.Imaging.Preprocessing;

/// <summary>
/// A box in pixel coordinates, x right, y down, half-open <c>[X0, X1) x [Y0, Y1)</c>; floats allowed
/// (VinDr <c>xmin, ymin, xmax, ymax</c>). See docs/preprocessing.md.
/// </summary>
public readonly record struct BoxF(double X0, double Y0, double X1, double Y1)
{
    public double Width => X1 - X0;
    public double Height => Y1 - Y0;
    public double CenterX => (X0 + X1) / 2;
    public double CenterY => (Y0 + Y1) / 2;

    /// <summary>The smallest integer rectangle covering the box: <c>[floor(x0), floor(y0), ceil(x1), ceil(y1))</c>.</summary>
    public PixelRect Cover() => PixelRect.FromCorners((int)Math.Floor(X0), (int)Math.Floor(Y0), (int)Math.Ceiling(X1), (int)Math.Ceiling(Y1));

    /// <summary>Throws unless the box is finite with x0 &lt;= x1 and y0 &lt;= y1.</summary>
    public void Validate(string paramName)
    {
        if (!double.IsFinite(X0) || !double.IsFinite(Y0) || !double.IsFinite(X1) || !double.IsFinite(Y1) || X1 < X0 || Y1 < Y0)
            throw new ArgumentException($"box {this} must be finite with x0 <= x1 and y0 <= y1", paramName);
    }

    public override string ToString() => $"[{X0}, {Y0}, {X1}, {Y1})";
}

/// <summary>An integer rectangle <c>[Left, Right) x [Top, Bottom)</c>; may extend outside an image (crops with padding).</summary>
public readonly record struct PixelRect(int Left, int Top, int Width, int Height)
{
    public int Right => Left + Width;
    public int Bottom => Top + Height;
    public bool IsEmpty => Width <= 0 || Height <= 0;
    public long Area => IsEmpty ? 0 : (long)Width * Height;

    public static PixelRect FromCorners(int x0, int y0, int x1, int y1) => new(x0, y0, Math.Max(0, x1 - x0), Math.Max(0, y1 - y0));

    /// <summary>The part of this rectangle inside <c>[0, width) x [0, height)</c> (possibly empty).</summary>
    public PixelRect ClipTo(int width, int height) =>
        FromCorners(Math.Clamp(Left, 0, width), Math.Clamp(Top, 0, height), Math.Clamp(Right, 0, width), Math.Clamp(Bottom, 0, height));

    /// <summary>Grown by <paramref name="margin"/> on every side.</summary>
    public PixelRect Inflate(int margin) => new(Left - margin, Top - margin, Width + 2 * margin, Height + 2 * margin);

    public bool Contains(int x, int y) => x >= Left && x < Right && y >= Top && y < Bottom;

    public override string ToString() => $"[{Left}, {Top}, {Right}, {Bottom})";
}
