using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Synthetic;

/// <summary>
/// The synthetic car's sensors, calibrated as nuScenes' (scene-0061's calibrated_sensor records, renormalised):
/// CAM_FRONT at 1.70 m forward, 1.51 m up, looking along the ego's x axis; LIDAR_TOP on the roof at 1.84 m, turned
/// -90° about z (its x axis points to the ego's right) like the nuScenes HDL-32E.
/// </summary>
public sealed record SensorRig(RigidTransform CameraFront, CameraIntrinsics CameraIntrinsics, RigidTransform LidarTop)
{
    public static readonly RigidTransform NuScenesCameraFront = new(
        new Vector3d(1.70079118954, 0.0159456324149, 1.51095763913),
        new Quaternion(0.4998015430569128, -0.5030316162024876, 0.4997798114386805, -0.49737083824542755).Normalized());

    public static readonly RigidTransform NuScenesLidarTop = new(
        new Vector3d(0.985793, 0.0, 1.84019),
        new Quaternion(0.706749235646644, -0.015300993788500868, 0.01739745181256607, -0.7070846669051719).Normalized());

    /// <summary>The nuScenes rig with the camera rendered at <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static SensorRig NuScenes(int width, int height) =>
        new(NuScenesCameraFront, CameraIntrinsics.NuScenesFront.Resized(width, height), NuScenesLidarTop);
}
