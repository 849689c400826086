using Pipeline.Driving.Geometry;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Driving.Camera;

/// <summary>
/// MObI's object-centric camera crop (thesis §2.3.1): a square centred on the projected 3D box such that the box covers
/// at least <c>ObjectAreaFraction</c> (20%) of it, zero-padded where it leaves the image, resized to D x D by the
/// project's resize rule (area averaging down, bilinear up; <see cref="Resample.ModelRule"/>). The same viewport
/// transform maps the projected corners into the crop; the edit mask m^(C) is their convex hull (<see cref="ConvexMask"/>).
/// </summary>
/// <param name="Crop">The square in image pixels (may leave the image).</param>
/// <param name="Resolution">D.</param>
/// <param name="CornersU">Projected corners in crop coordinates, [0, D).</param>
/// <param name="CornersV">Projected corners in crop coordinates.</param>
/// <param name="CornersDepth">Camera depth of each corner, metres.</param>
public sealed record ObjectCentricCameraCrop(PixelRect Crop, int Resolution, double[] CornersU, double[] CornersV, double[] CornersDepth)
{
    /// <summary>The thesis's minimum share of the crop covered by the projected box (repo: object_area_crop 0.2).</summary>
    public const double ObjectAreaFraction = 0.2;

    public double Scale => (double)Resolution / Crop.Width;

    /// <summary>
    /// Plans the crop: the box is the projected corners' bounds clipped to the image (w x h); the side is
    /// <c>ceil(max(w, h, sqrt(w h / fraction)))</c>, at least 8; the square's top-left is <c>floor(centre - side / 2)</c>.
    /// </summary>
    public static ObjectCentricCameraCrop Plan(ProjectedBox box, int resolution, double objectAreaFraction = ObjectAreaFraction)
    {
        if (resolution <= 0) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution must be positive, got {resolution}");
        var b = box.ClippedBounds;
        if (b.IsEmpty) throw new ArgumentException($"the projected box {box.Bounds} does not overlap the image", nameof(box));
        double side = Math.Max(8, Math.Ceiling(Math.Max(Math.Max(b.Width, b.Height), Math.Sqrt(b.Width * b.Height / objectAreaFraction))));
        int s = (int)side;
        int left = (int)Math.Floor((b.X0 + b.X1) / 2 - s / 2.0);
        int top = (int)Math.Floor((b.Y0 + b.Y1) / 2 - s / 2.0);
        double scale = (double)resolution / s;
        var u = box.U.Select(x => (x - left) * scale).ToArray();
        var v = box.V.Select(y => (y - top) * scale).ToArray();
        return new ObjectCentricCameraCrop(new PixelRect(left, top, s, s), resolution, u, v, (double[])box.Depth.Clone());
    }

    /// <summary>Crops and resizes an interleaved float image (e.g. RGB in [-1, 1]) into D x D x channels.</summary>
    public void Extract(ReadOnlySpan<float> image, int width, int height, int channels, Span<float> destination)
    {
        if (destination.Length != Resolution * Resolution * channels) throw new ArgumentException($"destination must hold {Resolution}x{Resolution}x{channels} samples", nameof(destination));
        var mode = Resample.ModelRule(Crop.Width, Resolution);
        Resample.ResizeRegion(image, width, height, channels, Crop, destination, Resolution, Resolution, mode, mode);
    }

    /// <summary>The edit mask m^(C), D x D: 1 inside the projected box.</summary>
    public float[] Mask()
    {
        var mask = new float[Resolution * Resolution];
        ConvexMask.Fill(CornersU, CornersV, Resolution, Resolution, mask);
        return mask;
    }
}
