using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;

namespace Pipeline.Driving.Insertion;

/// <summary>Why a candidate empty box was refused, or null when it was kept.</summary>
public sealed record EmptyBoxCandidate(Box3 GlobalBox, string SourceAnnotation, string Category, string? Refused);

/// <summary>
/// MObI's empty boxes (thesis §2.3.1, "Empty-box augmentation"): a box of an object from another scene, "teleported"
/// into this key frame at the same pose relative to the ego vehicle, kept when it overlaps no object of the frame in 3D,
/// its total 2D IoU with the frame's projected objects is at most 50%, and it is free space (docs/driving.md, "Empty
/// boxes"): at most <see cref="EmptyBoxOptions.MaxPointsAboveGround"/> lidar points inside it above its lowest
/// <see cref="EmptyBoxOptions.GroundClearance"/> metres (the road surface may be inside; a wall, a pole or a parked car
/// may not). It must also be a usable edit: in front of the camera, inside the image and the lidar range, and its 2D
/// box at least the object filter's minimum side. The 3D overlap test compares the footprints' bounding circles
/// (conservative: it refuses some boxes that would not overlap).
/// </summary>
public static class EmptyBoxPool
{
    /// <summary>Checks one candidate (a box already placed in the frame's global coordinates).</summary>
    public static string? Check(DrivingSample frame, Box3 globalBox, EmptyBoxOptions? options = null)
    {
        options ??= new EmptyBoxOptions();
        var projection = BoxProjection.Project(globalBox, frame.CameraEgoPose, frame.CameraCalibration, frame.Camera);
        if (!projection.InFront) return "behind the camera";
        var clipped = projection.ClippedBounds;
        if (clipped.IsEmpty) return "outside the image";
        foreach (var o in frame.Objects)
        {
            var b = o.GlobalBox;
            double dx = b.Center.X - globalBox.Center.X, dy = b.Center.Y - globalBox.Center.Y;
            double r = 0.5 * Math.Sqrt(b.Width * b.Width + b.Length * b.Length) + 0.5 * Math.Sqrt(globalBox.Width * globalBox.Width + globalBox.Length * globalBox.Length);
            if (dx * dx + dy * dy < r * r) return $"overlaps {o.Category} {o.Annotation.Token} in 3D";
        }
        double minSide = options.Filters.MinBoxSide * frame.Camera.Width / options.Filters.ReferenceWidth;
        if (clipped.Width < minSide || clipped.Height < minSide) return $"2D box {clipped.Width:0}x{clipped.Height:0} px under {minSide:0} px";
        double iou = frame.Objects.Where(o => o.Projection.InFront).Sum(o => o.Projection.ClippedBounds.IoU(clipped));
        if (iou > options.Filters.MaxIoU) return $"total 2D IoU {iou:0.00} with the frame's objects over {options.Filters.MaxIoU:0.00}";
        var inLidar = frame.InLidar(globalBox);
        double near = inLidar.Corners().Min(c => Math.Sqrt(c.X * c.X + c.Y * c.Y + c.Z * c.Z));
        double far = inLidar.Corners().Max(c => Math.Sqrt(c.X * c.X + c.Y * c.Y + c.Z * c.Z));
        if (near < options.MinDepth || far > options.MaxDepth) return $"outside the lidar range (corners at {near:0.#}-{far:0.#} m)";
        var raised = inLidar with { Center = inLidar.Center + new Vector3d(0, 0, options.GroundClearance / 2), Height = Math.Max(0, inLidar.Height - options.GroundClearance) };
        int above = raised.CountInside(frame.LidarPoints, LidarPointCloud.Stride);
        if (above > options.MaxPointsAboveGround) return $"not free space ({above} lidar points above the ground inside it)";
        return null;
    }

    /// <summary>
    /// Candidates for a frame: each source object's box (in its own frame's ego coordinates) placed at the same ego-relative
    /// pose in <paramref name="frame"/>, checked by <see cref="Check"/>.
    /// </summary>
    public static EmptyBoxCandidate Place(DrivingSample frame, EmptyBoxSource source, EmptyBoxOptions? options = null)
    {
        var placed = source.GlobalBox.ToChild(source.EgoPose).ToParent(frame.CameraEgoPose);
        return new EmptyBoxCandidate(placed, source.AnnotationToken, source.Category, Check(frame, placed, options));
    }

    /// <summary>Every annotated box of a dataset as a source, with its frame's ego pose (from the tables alone).</summary>
    public static IReadOnlyList<EmptyBoxSource> Sources(NuScenesDataset db)
    {
        var categoryOf = db.Instances.ToDictionary(i => i.Token, i => db.Categories.FirstOrDefault(c => c.Token == i.CategoryToken)?.Name ?? "?");
        var result = new List<EmptyBoxSource>();
        foreach (var sample in db.OrderedSamples())
        {
            if (db.DataOf(sample.Token, "LIDAR_TOP") is not { } lidar) continue;
            var (_, ego) = db.PosesOf(lidar);
            foreach (var a in db.AnnotationsOf(sample.Token))
                result.Add(new EmptyBoxSource(NuScenesDataset.BoxOf(a), ego, a.Token, categoryOf.GetValueOrDefault(a.InstanceToken ?? "", "?"), sample.SceneToken ?? ""));
        }
        return result;
    }
}

/// <summary>A box that may be teleported: an annotation's global box, its frame's ego pose, its scene.</summary>
public sealed record EmptyBoxSource(Box3 GlobalBox, RigidTransform EgoPose, string AnnotationToken, string Category, string SceneToken);

/// <summary>Thresholds of <see cref="EmptyBoxPool"/>.</summary>
public sealed record EmptyBoxOptions
{
    public ObjectFilterOptions Filters { get; init; } = new();
    public double GroundClearance { get; init; } = 0.3;
    public int MaxPointsAboveGround { get; init; } = 3;
    public double MinDepth { get; init; } = 1.4;
    public double MaxDepth { get; init; } = 54;
}
