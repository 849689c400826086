using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.RangeView;

/// <summary>
/// A 3D box projected into the range view, keeping each corner's depth (thesis §2.3.2: box_d^(R) ∈ R^{8×3}):
/// continuous column and row (<see cref="RangeView.Locate"/>) and depth in metres. Columns are unwrapped so the box
/// is contiguous: when the corners straddle the ±π seam (spread over more than W/2), W is added to those in the left half.
/// </summary>
public sealed record RangeBox(double[] Columns, double[] Rows, double[] Depths, int ViewWidth)
{
    /// <summary>Projects a box given in the lidar frame.</summary>
    public static RangeBox Project(Box3 boxInLidar, RangeViewOptions? options = null)
    {
        options ??= RangeViewOptions.NuScenes;
        var corners = boxInLidar.Corners();
        var cols = new double[8]; var rows = new double[8]; var depths = new double[8];
        for (int i = 0; i < 8; i++) (cols[i], rows[i], depths[i]) = RangeView.Locate(corners[i].X, corners[i].Y, corners[i].Z, options);
        if (cols.Max() - cols.Min() > options.Width / 2.0)
            for (int i = 0; i < 8; i++) if (cols[i] < options.Width / 2.0) cols[i] += options.Width;
        return new RangeBox(cols, rows, depths, options.Width);
    }

    public double MinColumn => Columns.Min();
    public double MaxColumn => Columns.Max();
    /// <summary>The box's width in columns.</summary>
    public double ColumnSpan => MaxColumn - MinColumn;
}
