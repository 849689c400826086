namespace Pipeline.Driving.Geometry;

/// <summary>
/// An oriented 3D box as a nuScenes sample_annotation stores it: centre, size (width, length, height) and rotation.
/// The box frame has x along the length (heading), y along the width, z up.
/// </summary>
public readonly record struct Box3(Vector3d Center, double Width, double Length, double Height, Quaternion Rotation)
{
    /// <summary>
    /// The 8 corners in the nuScenes devkit's order (Box.corners): the first four face forward (+x, length/2), the last
    /// four backward; within each face: (+y, +z), (-y, +z), (-y, -z), (+y, -z).
    /// </summary>
    public Vector3d[] Corners()
    {
        var m = Rotation.ToMatrix();
        var corners = new Vector3d[8];
        for (int i = 0; i < 8; i++)
        {
            var local = new Vector3d(Length / 2 * CornerSigns[i, 0], Width / 2 * CornerSigns[i, 1], Height / 2 * CornerSigns[i, 2]);
            corners[i] = m.Apply(local) + Center;
        }
        return corners;
    }

    private static readonly int[,] CornerSigns =
    {
        { 1, 1, 1 }, { 1, -1, 1 }, { 1, -1, -1 }, { 1, 1, -1 },
        { -1, 1, 1 }, { -1, -1, 1 }, { -1, -1, -1 }, { -1, 1, -1 },
    };

    /// <summary>Whether a point (same frame as the box) lies inside or on the box.</summary>
    public bool Contains(Vector3d point)
    {
        var local = Rotation.ToMatrix().ApplyTransposed(point - Center);
        return Math.Abs(local.X) <= Length / 2 && Math.Abs(local.Y) <= Width / 2 && Math.Abs(local.Z) <= Height / 2;
    }

    /// <summary>The same box expressed in a child frame (e.g. global -> ego -> sensor).</summary>
    public Box3 ToChild(RigidTransform childPose) =>
        this with { Center = childPose.ToChild(Center), Rotation = (childPose.Rotation.Conjugate * Rotation).Normalized() };

    /// <summary>The same box expressed in the parent frame of <paramref name="pose"/>.</summary>
    public Box3 ToParent(RigidTransform pose) =>
        this with { Center = pose.ToParent(Center), Rotation = (pose.Rotation * Rotation).Normalized() };

    /// <summary>Counts interleaved float points (stride floats each, x y z first) inside the box.</summary>
    public int CountInside(ReadOnlySpan<float> points, int stride)
    {
        var m = Rotation.ToMatrix();
        int n = 0;
        for (int i = 0; i + 2 < points.Length; i += stride)
        {
            var local = m.ApplyTransposed(new Vector3d(points[i], points[i + 1], points[i + 2]) - Center);
            if (Math.Abs(local.X) <= Length / 2 && Math.Abs(local.Y) <= Width / 2 && Math.Abs(local.Z) <= Height / 2) n++;
        }
        return n;
    }

    /// <summary>
    /// Counts points given in another frame inside the box: each point (interleaved floats, x y z first) is taken to the
    /// box's frame by <paramref name="pointsToBoxFrame"/> (e.g. a lidar's sensor -> global transform) in double precision.
    /// The count behind num_lidar_pts, written by the generator and checked by ingestion with this same function.
    /// </summary>
    public int CountInside(ReadOnlySpan<float> points, int stride, RigidTransform pointsToBoxFrame)
    {
        var toParent = pointsToBoxFrame.Rotation.ToMatrix();
        var m = Rotation.ToMatrix();
        int n = 0;
        for (int i = 0; i + 2 < points.Length; i += stride)
        {
            var p = toParent.Apply(new Vector3d(points[i], points[i + 1], points[i + 2])) + pointsToBoxFrame.Translation;
            var local = m.ApplyTransposed(p - Center);
            if (Math.Abs(local.X) <= Length / 2 && Math.Abs(local.Y) <= Width / 2 && Math.Abs(local.Z) <= Height / 2) n++;
        }
        return n;
    }
}
