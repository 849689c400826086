using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Synthetic;

/// <summary>A rendered camera frame: 8-bit RGB (row-major, interleaved) and the id of the object seen at each pixel (-1: ground or sky).</summary>
public sealed record CameraFrame(int Width, int Height, byte[] Rgb, int[] ObjectIds);

/// <summary>
/// Renders a pinhole camera by ray casting: one ray per pixel centre through K⁻¹, first hit shaded Lambertian under
/// the sun (ambient 0.35 + 0.65 max(0, n·sun), zero where a shadow ray meets anything), sky a vertical gradient,
/// gamma 2.2. Rows are rendered in parallel; every pixel depends only on the world, so the output is deterministic.
/// </summary>
public static class CameraRenderer
{
    public static CameraFrame Render(SyntheticWorld world, double time, RigidTransform cameraToRoad, CameraIntrinsics camera, CancellationToken cancellationToken = default)
    {
        int w = camera.Width, h = camera.Height;
        var rgb = new byte[w * h * 3];
        var ids = new int[w * h];
        var rot = cameraToRoad.Rotation.ToMatrix();
        var origin = cameraToRoad.Translation;
        Parallel.For(0, h, new ParallelOptions { CancellationToken = cancellationToken }, v =>
        {
            for (int u = 0; u < w; u++)
            {
                var dir = rot.Apply(camera.Ray(u + 0.5, v + 0.5)).Normalized();
                var (r, g, b, id) = Shade(world, time, origin, dir);
                int p = v * w + u;
                ids[p] = id;
                rgb[3 * p] = ToByte(r); rgb[3 * p + 1] = ToByte(g); rgb[3 * p + 2] = ToByte(b);
            }
        });
        return new CameraFrame(w, h, rgb, ids);
    }

    /// <summary>
    /// The share of an object's silhouette in the image that the camera sees: pixels whose first hit is the object,
    /// over pixels whose ray would meet the object if it were alone (inside its projected 2D box). 0 when it is not in view.
    /// </summary>
    public static double Visibility(SceneObject obj, CameraFrame frame, double time, RigidTransform cameraToRoad, CameraIntrinsics camera, Box2 projected)
    {
        var clip = projected.Intersect(new Box2(0, 0, frame.Width, frame.Height));
        if (clip.IsEmpty) return 0;
        var rot = cameraToRoad.Rotation.ToMatrix();
        int seen = 0, silhouette = 0;
        for (int v = (int)Math.Floor(clip.Y0); v < (int)Math.Ceiling(clip.Y1); v++)
            for (int u = (int)Math.Floor(clip.X0); u < (int)Math.Ceiling(clip.X1); u++)
            {
                var dir = rot.Apply(camera.Ray(u + 0.5, v + 0.5)).Normalized();
                if (!obj.Intersect(cameraToRoad.Translation, dir, time, 1e4, out _, out _, out _, out _)) continue;
                silhouette++;
                if (frame.ObjectIds[v * frame.Width + u] == obj.Id) seen++;
            }
        return silhouette == 0 ? 0 : (double)seen / silhouette;
    }

    private static (double R, double G, double B, int Id) Shade(SyntheticWorld world, double time, Vector3d origin, Vector3d dir)
    {
        if (!world.Cast(origin, dir, time, 1000, out var hit))
        {
            double e = Math.Clamp(dir.Z, 0, 1);
            return (0.75 - 0.40 * e, 0.85 - 0.30 * e, 0.95 - 0.10 * e, -1);
        }
        var n = hit.Normal.Dot(dir) > 0 ? -hit.Normal : hit.Normal;
        double light = 0.35;
        double lambert = n.Dot(world.Sun);
        if (lambert > 0 && !world.InShadow(hit.Point, n, time)) light += 0.65 * lambert;
        // a little haze with distance keeps far facades from looking pasted on
        double haze = 1 - Math.Exp(-hit.Distance / 400);
        var m = hit.Material;
        return (m.R * light * (1 - haze) + 0.75 * haze, m.G * light * (1 - haze) + 0.85 * haze, m.B * light * (1 - haze) + 0.95 * haze, hit.ObjectId);
    }

    private static byte ToByte(double linear) => (byte)Math.Clamp((int)Math.Round(255 * Math.Pow(Math.Clamp(linear, 0, 1), 1 / 2.2)), 0, 255);
}
