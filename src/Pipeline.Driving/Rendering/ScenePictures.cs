using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using RV = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Rendering;

/// <summary>An annotated box to draw: in the frame the picture needs, with a label colour.</summary>
public sealed record DrawnBox(Box3 Box, (byte R, byte G, byte B) Colour);

/// <summary>
/// The pictures of one sample for people to look at (`pipeline scene render`): the camera frame with the projected 3D
/// boxes, the range view's depth and intensity, and a bird's-eye view of the lidar points with the box footprints.
/// </summary>
public static class ScenePictures
{
    public static readonly (byte, byte, byte) CarColour = (255, 158, 0), PedestrianColour = (0, 160, 255), FrontColour = (230, 30, 30);

    /// <summary>Draws boxes given in the camera frame onto a copy of the frame: the front face red, the rest in the box's colour (the devkit's render_box style).</summary>
    public static RgbCanvas CameraWithBoxes(byte[] rgb, CameraIntrinsics camera, IEnumerable<DrawnBox> boxesInCamera)
    {
        var canvas = new RgbCanvas(camera.Width, camera.Height, (byte[])rgb.Clone());
        int thickness = Math.Max(1, camera.Width / 400);
        foreach (var b in boxesInCamera)
        {
            var p = BoxProjection.Project(b.Box, camera);
            if (!p.InFront) continue;
            void Edge(int i, int j, (byte, byte, byte) c) => canvas.Line(p.U[i], p.V[i], p.U[j], p.V[j], c, thickness);
            for (int i = 0; i < 4; i++)
            {
                Edge(4 + i, 4 + (i + 1) % 4, b.Colour);
                Edge(i, 4 + i, b.Colour);
            }
            for (int i = 0; i < 4; i++) Edge(i, (i + 1) % 4, FrontColour);
        }
        return canvas;
    }

    /// <summary>
    /// One channel of a range view as a picture, each row repeated <paramref name="rowScale"/> times: depth on the
    /// colour ramp over [MinDepth, MaxDepth] (near = yellow), intensity on it over [0, 255] with a square-root stretch;
    /// empty pixels black.
    /// </summary>
    public static RgbCanvas RangeChannel(RV view, bool depth, int rowScale = 4)
    {
        var canvas = new RgbCanvas(view.Width, view.Height * rowScale);
        for (int r = 0; r < view.Height; r++)
            for (int c = 0; c < view.Width; c++)
            {
                int p = r * view.Width + c;
                if (view.PointIndex[p] < 0) continue;
                double t = depth
                    ? 1 - Math.Log(view.Depth[p] / view.Options.MinDepth) / Math.Log(view.Options.MaxDepth / view.Options.MinDepth)
                    : Math.Sqrt(view.Intensity[p] / 255.0);
                var colour = Colormap.Map(t);
                for (int k = 0; k < rowScale; k++) canvas.Set(c, r * rowScale + k, colour);
            }
        return canvas;
    }

    /// <summary>Marks box corners (range-view columns and rows) on a range picture: the outline of their hull.</summary>
    public static void RangeBoxOutline(RgbCanvas canvas, double[] columns, double[] rows, int viewWidth, int rowScale, (byte, byte, byte) colour)
    {
        var hull = ConvexMask.Hull(columns.Select(c => c % viewWidth).ToArray(), rows.Select(r => r * rowScale).ToArray());
        for (int i = 0; i < hull.Count; i++)
        {
            var (a, b) = (hull[i], hull[(i + 1) % hull.Count]);
            if (Math.Abs(a.X - b.X) > viewWidth / 2.0) continue; // wraps around the seam
            canvas.Line(a.X, a.Y, b.X, b.Y, colour);
        }
    }

    /// <summary>
    /// Bird's-eye view of ego-frame points (x forward = up in the picture, y left = left) within ±<paramref name="range"/>
    /// metres, coloured by height, with box footprints (front edge red) and the ego at the centre.
    /// </summary>
    public static RgbCanvas BirdsEye(ReadOnlySpan<float> egoPoints, int stride, IEnumerable<DrawnBox> boxesInEgo, double range = 50, int size = 800)
    {
        var canvas = new RgbCanvas(size, size);
        canvas.Fill((12, 12, 16));
        double scale = size / (2 * range);
        (double X, double Y) Px(double x, double y) => (size / 2.0 - y * scale, size / 2.0 - x * scale);
        for (int i = 0; i + 2 < egoPoints.Length; i += stride)
        {
            var (u, v) = Px(egoPoints[i], egoPoints[i + 1]);
            canvas.Set((int)u, (int)v, Colormap.Map((egoPoints[i + 2] + 0.2) / 3.0));
        }
        foreach (var b in boxesInEgo)
        {
            var c = b.Box.Corners();
            int[] footprint = [2, 3, 7, 6]; // bottom corners: front-right, front-left, back-left, back-right
            for (int k = 0; k < 4; k++)
            {
                var (x0, y0) = Px(c[footprint[k]].X, c[footprint[k]].Y);
                var (x1, y1) = Px(c[footprint[(k + 1) % 4]].X, c[footprint[(k + 1) % 4]].Y);
                canvas.Line(x0, y0, x1, y1, k == 0 ? FrontColour : b.Colour, 2);
            }
        }
        var (ex, ey) = Px(0, 0);
        canvas.Disc(ex, ey, 4, (255, 255, 255));
        var (fx, fy) = Px(4, 0);
        canvas.Line(ex, ey, fx, fy, (255, 255, 255), 2);
        return canvas;
    }
}
