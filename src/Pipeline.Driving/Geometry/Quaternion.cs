namespace Pipeline.Driving.Geometry;

/// <summary>
/// A rotation quaternion in nuScenes order (w, x, y, z), scalar first, Hamilton convention (as pyquaternion, which the
/// nuScenes devkit uses): <c>R(q) v = q v q*</c>. Rotations stored in the tables rotate a frame's axes into its
/// parent's (sensor -> ego, ego -> global, box -> global). See docs/driving.md, "Frames".
/// </summary>
public readonly record struct Quaternion(double W, double X, double Y, double Z)
{
    /// <summary>Tolerance on |q| - 1 accepted as a unit quaternion (the tables hold about 16 significant digits).</summary>
    public const double UnitTolerance = 1e-6;

    public static Quaternion Identity => new(1, 0, 0, 0);

    public double Norm => Math.Sqrt(W * W + X * X + Y * Y + Z * Z);
    public bool IsUnit(double tolerance = UnitTolerance) => Math.Abs(Norm - 1) <= tolerance;
    public Quaternion Normalized() { var n = Norm; return new(W / n, X / n, Y / n, Z / n); }
    public Quaternion Conjugate => new(W, -X, -Y, -Z);

    /// <summary>Rotation by <paramref name="angle"/> radians about a unit <paramref name="axis"/>.</summary>
    public static Quaternion FromAxisAngle(Vector3d axis, double angle)
    {
        var a = axis.Normalized(); var s = Math.Sin(angle / 2);
        return new(Math.Cos(angle / 2), a.X * s, a.Y * s, a.Z * s);
    }

    /// <summary>Rotation about +z (yaw, counter-clockwise seen from above).</summary>
    public static Quaternion FromYaw(double yaw) => new(Math.Cos(yaw / 2), 0, 0, Math.Sin(yaw / 2));

    /// <summary>Hamilton product: applying <c>a * b</c> rotates by b first, then by a.</summary>
    public static Quaternion operator *(Quaternion a, Quaternion b) => new(
        a.W * b.W - a.X * b.X - a.Y * b.Y - a.Z * b.Z,
        a.W * b.X + a.X * b.W + a.Y * b.Z - a.Z * b.Y,
        a.W * b.Y - a.X * b.Z + a.Y * b.W + a.Z * b.X,
        a.W * b.Z + a.X * b.Y - a.Y * b.X + a.Z * b.W);

    /// <summary>The 3x3 rotation matrix, row-major, of the normalised quaternion.</summary>
    public RotationMatrix ToMatrix()
    {
        var (w, x, y, z) = Normalized();
        return new RotationMatrix(
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y));
    }

    public Vector3d Rotate(Vector3d v) => ToMatrix().Apply(v);

    /// <summary>Heading of the rotated +x axis in the xy plane (the yaw of a box), radians.</summary>
    public double Yaw { get { var f = Rotate(new Vector3d(1, 0, 0)); return Math.Atan2(f.Y, f.X); } }

    /// <summary>From a JSON-style array [w, x, y, z].</summary>
    public static Quaternion From(IReadOnlyList<double> wxyz) =>
        wxyz.Count == 4 ? new(wxyz[0], wxyz[1], wxyz[2], wxyz[3]) : throw new ArgumentException($"a quaternion needs 4 values (w, x, y, z), got {wxyz.Count}", nameof(wxyz));

    public double[] ToArray() => [W, X, Y, Z];
}

/// <summary>A 3x3 rotation matrix, row-major.</summary>
public readonly record struct RotationMatrix(double M00, double M01, double M02, double M10, double M11, double M12, double M20, double M21, double M22)
{
    public Vector3d Apply(Vector3d v) => new(
        M00 * v.X + M01 * v.Y + M02 * v.Z,
        M10 * v.X + M11 * v.Y + M12 * v.Z,
        M20 * v.X + M21 * v.Y + M22 * v.Z);

    /// <summary>Rᵀ v: the inverse rotation.</summary>
    public Vector3d ApplyTransposed(Vector3d v) => new(
        M00 * v.X + M10 * v.Y + M20 * v.Z,
        M01 * v.X + M11 * v.Y + M21 * v.Z,
        M02 * v.X + M12 * v.Y + M22 * v.Z);
}
