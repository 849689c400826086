using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Camera;

/// <summary>
/// A pinhole camera's intrinsic matrix K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] (nuScenes calibrated_sensor
/// camera_intrinsic) with the image size it belongs to. The camera frame is x right, y down, z forward.
/// </summary>
public readonly record struct CameraIntrinsics(double Fx, double Fy, double Cx, double Cy, int Width, int Height)
{
    /// <summary>nuScenes CAM_FRONT (scene-0061's calibration), 1600 x 900.</summary>
    public static CameraIntrinsics NuScenesFront => new(1266.417203046554, 1266.417203046554, 816.2670197447984, 491.50706579294757, 1600, 900);

    /// <summary>Below this depth (m) a point is treated as behind the camera, as the devkit's 1 m margin does for boxes.</summary>
    public const double MinDepth = 0.1;

    /// <summary>The same camera at another image size (focal lengths and principal point scaled per axis).</summary>
    public CameraIntrinsics Resized(int width, int height)
    {
        double sx = (double)width / Width, sy = (double)height / Height;
        return new(Fx * sx, Fy * sy, Cx * sx, Cy * sy, width, height);
    }

    /// <summary>Projects a camera-frame point: (u, v) in pixels and its depth z (the devkit's view_points with normalize).</summary>
    public (double U, double V, double Depth) Project(Vector3d p) => (Fx * p.X / p.Z + Cx, Fy * p.Y / p.Z + Cy, p.Z);

    /// <summary>The camera-frame ray direction through pixel (u, v) (not normalised; z = 1).</summary>
    public Vector3d Ray(double u, double v) => new((u - Cx) / Fx, (v - Cy) / Fy, 1);

    /// <summary>The 3x3 matrix as nuScenes stores it.</summary>
    public double[][] ToMatrix() => [[Fx, 0, Cx], [0, Fy, Cy], [0, 0, 1]];

    /// <summary>Reads camera_intrinsic; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static CameraIntrinsics FromMatrix(IReadOnlyList<IReadOnlyList<double>> k, int width, int height)
    {
        if (k.Count != 3 || k.Any(r => r.Count != 3)) throw new ArgumentException("camera_intrinsic must be a 3x3 matrix");
        if (!(k[0][0] > 0) || !(k[1][1] > 0)) throw new ArgumentException($"camera_intrinsic focal lengths must be positive, got fx={k[0][0]}, fy={k[1][1]}");
        if (k[1][0] != 0 || k[2][0] != 0 || k[2][1] != 0 || k[2][2] != 1) throw new ArgumentException("camera_intrinsic must be upper triangular with K[2][2] = 1");
        return new(k[0][0], k[1][1], k[0][2], k[1][2], width, height);
    }
}
