using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Synthetic;

/// <summary>What a scene object is: annotated classes (car, pedestrian) and unannotated scenery.</summary>
public enum SceneObjectKind
{
    Scenery,
    Car,
    Pedestrian,
}

/// <summary>
/// One object of a synthetic world: primitives in its local frame (x forward, y left, z up, origin on the ground at
/// the box centre) moving along a straight track in the road frame: position(t) = Start + Velocity t, constant heading.
/// <see cref="BoxSize"/> is the annotated box (width, length, height), which encloses every primitive.
/// </summary>
public sealed class SceneObject
{
    public SceneObject(int id, SceneObjectKind kind, IReadOnlyList<Primitive> primitives, Vector3d start, Vector3d velocity, double heading, (double Width, double Length, double Height) boxSize)
    {
        Id = id; Kind = kind; Primitives = primitives; Start = start; Velocity = velocity; Heading = heading; BoxSize = boxSize;
        var min = new Vector3d(double.MaxValue, double.MaxValue, double.MaxValue);
        var max = new Vector3d(double.MinValue, double.MinValue, double.MinValue);
        foreach (var p in primitives)
        {
            var (a, b) = p.Bounds;
            min = new(Math.Min(min.X, a.X), Math.Min(min.Y, a.Y), Math.Min(min.Z, a.Z));
            max = new(Math.Max(max.X, b.X), Math.Max(max.Y, b.Y), Math.Max(max.Z, b.Z));
        }
        BoundsMin = min; BoundsMax = max;
        (_cos, _sin) = (Math.Cos(heading), Math.Sin(heading));
    }

    private readonly double _cos, _sin;

    public int Id { get; }
    public SceneObjectKind Kind { get; }
    public IReadOnlyList<Primitive> Primitives { get; }
    public Vector3d Start { get; }
    public Vector3d Velocity { get; }
    public double Heading { get; }
    public (double Width, double Length, double Height) BoxSize { get; }
    public Vector3d BoundsMin { get; }
    public Vector3d BoundsMax { get; }
    public bool IsMoving => Velocity.Length > 0;

    public Vector3d PositionAt(double time) => Start + Velocity * time;

    /// <summary>The annotated box in the road frame at <paramref name="time"/>.</summary>
    public Box3 BoxAt(double time) =>
        new(PositionAt(time) + new Vector3d(0, 0, BoxSize.Height / 2), BoxSize.Width, BoxSize.Length, BoxSize.Height, Quaternion.FromYaw(Heading));

    /// <summary>Nearest hit of a road-frame ray with this object at <paramref name="time"/>.</summary>
    public bool Intersect(Vector3d origin, Vector3d direction, double time, double tMax, out double t, out Vector3d normal, out Primitive? primitive, out Vector3d localPoint)
    {
        t = tMax; normal = default; primitive = null; localPoint = default;
        var rel = origin - PositionAt(time);
        // into the local frame: rotate by -heading about z
        var o = new Vector3d(_cos * rel.X + _sin * rel.Y, -_sin * rel.X + _cos * rel.Y, rel.Z);
        var d = new Vector3d(_cos * direction.X + _sin * direction.Y, -_sin * direction.X + _cos * direction.Y, direction.Z);
        if (!Primitive.RayBox(o, d, BoundsMin, BoundsMax, 1e-9, tMax, out _, out _, out _) && !Inside(o)) return false;
        bool hit = false;
        foreach (var p in Primitives)
        {
            if (p.Intersect(o, d, 1e-6, t, out var tp, out var n))
            {
                t = tp; normal = n; primitive = p; hit = true;
            }
        }
        if (!hit) return false;
        localPoint = o + d * t;
        normal = new Vector3d(_cos * normal.X - _sin * normal.Y, _sin * normal.X + _cos * normal.Y, normal.Z);
        return true;
    }

    private bool Inside(Vector3d p) =>
        p.X >= BoundsMin.X && p.X <= BoundsMax.X && p.Y >= BoundsMin.Y && p.Y <= BoundsMax.Y && p.Z >= BoundsMin.Z && p.Z <= BoundsMax.Z;
}
