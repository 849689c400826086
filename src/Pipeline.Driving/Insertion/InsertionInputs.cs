using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.RangeView;
using RangeViewGrid = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Insertion;

/// <summary>
/// MObI's model inputs for one edit at a destination 3D box of a key frame (docs/driving.md, "Model inputs"): the
/// object-centric camera crop x^(C) (3 x D x D, RGB in [-1, 1]) and range crop x^(R) (2 x D x D, normalised depth and
/// intensity), their edit masks m^(C), m^(R), and the box as 8 corners per modality (thesis §2.3.3, "Bounding-box
/// encoder"): camera (u / image width, v / image height, depth / max depth), range (crop column / W^(R), row / H,
/// depth / max depth). The same code prepares training examples (<c>pipeline scene export-training</c>) and a run's
/// items, so a model is never run on inputs prepared another way.
/// </summary>
public sealed class InsertionInputs
{
    /// <summary>Channels of x^(C) and x^(R), in the model's sample order (camera first).</summary>
    public const int CameraChannels = 3, RangeChannels = 2, Channels = CameraChannels + RangeChannels, Modalities = 2, BoxValues = Modalities * 8 * 3;

    public required int Resolution { get; init; }
    public required Box3 GlobalBox { get; init; }
    public required Box3 BoxInLidar { get; init; }
    public required ProjectedBox Projection { get; init; }
    public required ObjectCentricCameraCrop CameraCrop { get; init; }
    public required RangeViewGrid View { get; init; }
    /// <summary>The key frame's lidar points (x, y, z, intensity, ring), lidar frame.</summary>
    public required float[] SourcePoints { get; init; }
    public required RangeImage Range { get; init; }
    /// <summary>x^(C), 3 x D x D planar, [-1, 1].</summary>
    public required float[] Camera { get; init; }
    /// <summary>m^(C), D x D.</summary>
    public required float[] CameraMask { get; init; }
    /// <summary>The box, 2 x 8 x 3 (camera corners, then range corners).</summary>
    public required float[] Box { get; init; }

    /// <summary>The unmasked target: x^(C) then x^(R), 5 x D x D.</summary>
    public float[] Target()
    {
        int n = Resolution * Resolution;
        var t = new float[Channels * n];
        Camera.CopyTo(t, 0);
        Range.Depth.CopyTo(t, 3 * n);
        Range.Intensity.CopyTo(t, 4 * n);
        return t;
    }

    /// <summary>m^(C) then m^(R), 2 x D x D.</summary>
    public float[] Mask()
    {
        int n = Resolution * Resolution;
        var m = new float[2 * n];
        CameraMask.CopyTo(m, 0);
        Range.Mask.CopyTo(m, n);
        return m;
    }

    /// <summary>
    /// Prepares the inputs for a destination box (global frame) in <paramref name="sample"/>. Refuses, naming the
    /// problem, a box that is behind the camera, projects outside the image, or is outside the lidar's range
    /// (a corner nearer than the minimum depth or farther than the maximum).
    /// </summary>
    public static InsertionInputs Create(DrivingSample sample, Box3 globalBox, int resolution, RangeViewGrid? view = null)
    {
        if (resolution < 8) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution must be at least 8, got {resolution}");
        var projection = BoxProjection.Project(globalBox, sample.CameraEgoPose, sample.CameraCalibration, sample.Camera);
        if (!projection.InFront)
            throw new InvalidDataException($"the box at {Describe(globalBox)} is behind the camera (nearest corner depth {projection.Depth.Min():0.##} m)");
        if (projection.ClippedBounds.IsEmpty)
            throw new InvalidDataException($"the box at {Describe(globalBox)} projects outside the {sample.Camera.Width}x{sample.Camera.Height} image");
        view ??= RangeViewGrid.FromPoints(sample.LidarPoints, LidarPointCloud.Stride);
        var inLidar = sample.InLidar(globalBox);
        var rangeBox = RangeBox.Project(inLidar, view.Options);
        double near = rangeBox.Depths.Min(), far = rangeBox.Depths.Max();
        if (near < view.Options.MinDepth || far > view.Options.MaxDepth)
            throw new InvalidDataException($"the box at {Describe(globalBox)} is outside the lidar range [{view.Options.MinDepth}, {view.Options.MaxDepth}] m (corners at {near:0.##}-{far:0.##} m)");

        var crop = ObjectCentricCameraCrop.Plan(projection, resolution);
        int n = resolution * resolution, w = sample.Camera.Width, h = sample.Camera.Height;
        var rgb = new float[sample.CameraRgb.Length];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = sample.CameraRgb[i] / 127.5f - 1f;
        var interleaved = new float[n * 3];
        crop.Extract(rgb, w, h, 3, interleaved);
        var camera = new float[3 * n];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 3; c++) camera[c * n + i] = interleaved[3 * i + c];

        var range = RangeImage.Create(view, rangeBox, resolution);
        var box = new float[BoxValues];
        double maxDepth = view.Options.MaxDepth;
        var columns = range.Crop.CornerColumns();
        for (int k = 0; k < 8; k++)
        {
            box[3 * k] = (float)(projection.U[k] / w);
            box[3 * k + 1] = (float)(projection.V[k] / h);
            box[3 * k + 2] = (float)(rangeBox.Depths[k] / maxDepth);
            box[24 + 3 * k] = (float)(columns[k] / range.Crop.CropWidth);
            box[24 + 3 * k + 1] = (float)(rangeBox.Rows[k] / range.Crop.Height);
            box[24 + 3 * k + 2] = (float)(rangeBox.Depths[k] / maxDepth);
        }
        return new InsertionInputs
        {
            Resolution = resolution, GlobalBox = globalBox, BoxInLidar = inLidar, Projection = projection, CameraCrop = crop,
            View = view, SourcePoints = sample.LidarPoints, Range = range, Camera = camera, CameraMask = crop.Mask(), Box = box,
        };
    }

    private static string Describe(Box3 b) => FormattableString.Invariant($"({b.Center.X:0.##}, {b.Center.Y:0.##}, {b.Center.Z:0.##})");
}
