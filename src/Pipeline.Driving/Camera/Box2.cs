namespace Pipeline.Driving.Camera;

/// <summary>An axis-aligned image rectangle in pixels, [X0, X1) x [Y0, Y1).</summary>
public readonly record struct Box2(double X0, double Y0, double X1, double Y1)
{
    public double Width => Math.Max(0, X1 - X0);
    public double Height => Math.Max(0, Y1 - Y0);
    public double Area => Width * Height;
    public bool IsEmpty => Width <= 0 || Height <= 0;

    public Box2 Intersect(Box2 o) => new(Math.Max(X0, o.X0), Math.Max(Y0, o.Y0), Math.Min(X1, o.X1), Math.Min(Y1, o.Y1));

    /// <summary>Intersection over union; 0 when either box is empty.</summary>
    public double IoU(Box2 o)
    {
        var inter = Intersect(o).Area;
        var union = Area + o.Area - inter;
        return union > 0 ? inter / union : 0;
    }

    public Box2 Scaled(double sx, double sy) => new(X0 * sx, Y0 * sy, X1 * sx, Y1 * sy);
}
