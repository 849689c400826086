using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Camera;

/// <summary>A 3D box seen by a camera: the 8 projected corners (u, v, depth) and the 2D box around them.</summary>
public sealed record ProjectedBox(double[] U, double[] V, double[] Depth, Box2 Bounds, Box2 ClippedBounds)
{
    /// <summary>Every corner is in front of the camera.</summary>
    public bool InFront => Depth.All(d => d > CameraIntrinsics.MinDepth);
}

/// <summary>
/// Projection of annotated boxes into a camera: global -> ego (ego_pose) -> camera (calibrated_sensor) -> pixels
/// (thesis §2.3.1, box^(C) = T^(C) · box). See docs/driving.md, "Frames".
/// </summary>
public static class BoxProjection
{
    /// <summary>Projects a box given in the camera frame.</summary>
    public static ProjectedBox Project(Box3 boxInCamera, CameraIntrinsics camera)
    {
        var corners = boxInCamera.Corners();
        var u = new double[8]; var v = new double[8]; var d = new double[8];
        for (int i = 0; i < 8; i++) (u[i], v[i], d[i]) = camera.Project(corners[i]);
        var bounds = new Box2(u.Min(), v.Min(), u.Max(), v.Max());
        return new ProjectedBox(u, v, d, bounds, bounds.Intersect(new Box2(0, 0, camera.Width, camera.Height)));
    }

    /// <summary>Projects a box given in the global frame, through the ego pose and the camera's calibration.</summary>
    public static ProjectedBox Project(Box3 boxInGlobal, RigidTransform egoPose, RigidTransform cameraCalibration, CameraIntrinsics camera) =>
        Project(boxInGlobal.ToChild(egoPose).ToChild(cameraCalibration), camera);
}
