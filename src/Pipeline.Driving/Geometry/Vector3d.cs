namespace Pipeline.Driving.Geometry;

/// <summary>A point or direction in metres, double precision (global coordinates of nuScenes reach a few km).</summary>
public readonly record struct Vector3d(double X, double Y, double Z)
{
    public static Vector3d Zero => default;
    public static Vector3d operator +(Vector3d a, Vector3d b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);
    public static Vector3d operator -(Vector3d a, Vector3d b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);
    public static Vector3d operator -(Vector3d a) => new(-a.X, -a.Y, -a.Z);
    public static Vector3d operator *(Vector3d a, double s) => new(a.X * s, a.Y * s, a.Z * s);
    public static Vector3d operator *(double s, Vector3d a) => new(a.X * s, a.Y * s, a.Z * s);
    public double Dot(Vector3d b) => X * b.X + Y * b.Y + Z * b.Z;
    public Vector3d Cross(Vector3d b) => new(Y * b.Z - Z * b.Y, Z * b.X - X * b.Z, X * b.Y - Y * b.X);
    public double Length => Math.Sqrt(X * X + Y * Y + Z * Z);
    public Vector3d Normalized() { var l = Length; return l > 0 ? this * (1 / l) : this; }
    public double this[int axis] => axis switch { 0 => X, 1 => Y, 2 => Z, _ => throw new ArgumentOutOfRangeException(nameof(axis)) };

    /// <summary>From a JSON-style array [x, y, z].</summary>
    public static Vector3d From(IReadOnlyList<double> xyz) =>
        xyz.Count == 3 ? new(xyz[0], xyz[1], xyz[2]) : throw new ArgumentException($"a 3-vector needs 3 values, got {xyz.Count}", nameof(xyz));

    public double[] ToArray() => [X, Y, Z];
}
