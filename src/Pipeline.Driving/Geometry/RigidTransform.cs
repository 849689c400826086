namespace Pipeline.Driving.Geometry;

/// <summary>
/// A pose as nuScenes stores it (ego_pose, calibrated_sensor): the child frame's origin and axes in the parent frame.
/// <see cref="ToParent"/> maps child coordinates to parent coordinates, <c>p = R(q) c + t</c>;
/// <see cref="ToChild"/> is its inverse, <c>c = R(q)ᵀ (p - t)</c>.
/// </summary>
public readonly record struct RigidTransform(Vector3d Translation, Quaternion Rotation)
{
    public static RigidTransform Identity => new(Vector3d.Zero, Quaternion.Identity);

    public Vector3d ToParent(Vector3d child) => Rotation.ToMatrix().Apply(child) + Translation;
    public Vector3d ToChild(Vector3d parent) => Rotation.ToMatrix().ApplyTransposed(parent - Translation);

    /// <summary>The pose of this transform's child in <paramref name="parent"/>'s parent: parent ∘ this.</summary>
    public RigidTransform Then(RigidTransform parent) =>
        new(parent.ToParent(Translation), (parent.Rotation * Rotation).Normalized());

    public RigidTransform Inverse()
    {
        var inv = Rotation.Conjugate;
        return new(-inv.Rotate(Translation), inv);
    }

    /// <summary>
    /// Sensor -> global for one sample_data: sensor -> ego (calibrated_sensor), then ego -> global (ego_pose).
    /// </summary>
    public static RigidTransform SensorToGlobal(RigidTransform calibratedSensor, RigidTransform egoPose) => calibratedSensor.Then(egoPose);

    /// <summary>Transforms interleaved float points (stride floats each, x y z first) in place to the parent frame.</summary>
    public void ToParentInPlace(Span<float> points, int stride)
    {
        var m = Rotation.ToMatrix();
        for (int i = 0; i + 2 < points.Length; i += stride)
        {
            var p = m.Apply(new Vector3d(points[i], points[i + 1], points[i + 2])) + Translation;
            points[i] = (float)p.X; points[i + 1] = (float)p.Y; points[i + 2] = (float)p.Z;
        }
    }
}
