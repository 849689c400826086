using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Synthetic;

/// <summary>Surface patterns computed from the hit point (so a plain box can be a facade with windows).</summary>
public enum SurfacePattern
{
    Plain,
    /// <summary>Vertical faces: a grid of windows (glass) 3 m per storey, 2.5 m per bay.</summary>
    Windows,
}

/// <summary>The shapes the ray caster knows, in an object's local frame.</summary>
public enum PrimitiveShape
{
    /// <summary>Axis-aligned box [Min, Max].</summary>
    Box,
    /// <summary>Sphere at Min with radius Max.X.</summary>
    Sphere,
    /// <summary>Cylinder along local y: centre Min, radius Max.X, half-width Max.Y.</summary>
    CylinderY,
}

/// <summary>One piece of an object's geometry.</summary>
public sealed record Primitive(PrimitiveShape Shape, Vector3d Min, Vector3d Max, Material Material, SurfacePattern Pattern = SurfacePattern.Plain)
{
    public static Primitive Box(double x0, double y0, double z0, double x1, double y1, double z1, Material m, SurfacePattern p = SurfacePattern.Plain) =>
        new(PrimitiveShape.Box, new(x0, y0, z0), new(x1, y1, z1), m, p);

    public static Primitive Sphere(Vector3d centre, double radius, Material m) => new(PrimitiveShape.Sphere, centre, new(radius, 0, 0), m);

    public static Primitive Wheel(double x, double y, double z, double radius, double halfWidth, Material m) =>
        new(PrimitiveShape.CylinderY, new(x, y, z), new(radius, halfWidth, 0), m);

    /// <summary>Local bounds.</summary>
    public (Vector3d Min, Vector3d Max) Bounds => Shape switch
    {
        PrimitiveShape.Box => (Min, Max),
        PrimitiveShape.Sphere => (Min - new Vector3d(Max.X, Max.X, Max.X), Min + new Vector3d(Max.X, Max.X, Max.X)),
        _ => (Min - new Vector3d(Max.X, Max.Y, Max.X), Min + new Vector3d(Max.X, Max.Y, Max.X)),
    };

    /// <summary>Nearest hit distance t in (tMin, tMax) of the ray o + t d and the outward normal, or false.</summary>
    public bool Intersect(Vector3d o, Vector3d d, double tMin, double tMax, out double t, out Vector3d normal)
    {
        t = 0; normal = default;
        switch (Shape)
        {
            case PrimitiveShape.Box:
                if (!RayBox(o, d, Min, Max, tMin, tMax, out t, out int axis, out int sign)) return false;
                normal = axis switch { 0 => new(sign, 0, 0), 1 => new(0, sign, 0), _ => new(0, 0, sign) };
                return true;
            case PrimitiveShape.Sphere:
            {
                var oc = o - Min; double r = Max.X;
                double a = d.Dot(d), b = oc.Dot(d), c = oc.Dot(oc) - r * r, disc = b * b - a * c;
                if (disc < 0) return false;
                double s = Math.Sqrt(disc), t0 = (-b - s) / a;
                if (t0 <= tMin) t0 = (-b + s) / a;
                if (t0 <= tMin || t0 >= tMax) return false;
                t = t0; normal = (o + d * t - Min) * (1 / r);
                return true;
            }
            default:
            {
                // infinite cylinder along y (x-z circle), capped by |y - cy| <= half-width
                double r = Max.X, hw = Max.Y;
                double ox = o.X - Min.X, oz = o.Z - Min.Z;
                double a = d.X * d.X + d.Z * d.Z, b = ox * d.X + oz * d.Z, c = ox * ox + oz * oz - r * r;
                double best = double.MaxValue; Vector3d n = default;
                if (a > 1e-12)
                {
                    double disc = b * b - a * c;
                    if (disc >= 0)
                    {
                        double s = Math.Sqrt(disc);
                        foreach (var tc in new[] { (-b - s) / a, (-b + s) / a })
                        {
                            if (tc <= tMin || tc >= tMax || tc >= best) continue;
                            double y = o.Y + d.Y * tc - Min.Y;
                            if (Math.Abs(y) > hw) continue;
                            best = tc; n = new Vector3d(ox + d.X * tc, 0, oz + d.Z * tc) * (1 / r);
                        }
                    }
                }
                if (Math.Abs(d.Y) > 1e-12)
                    foreach (var side in new[] { -1.0, 1.0 })
                    {
                        double tc = (Min.Y + side * hw - o.Y) / d.Y;
                        if (tc <= tMin || tc >= tMax || tc >= best) continue;
                        double px = ox + d.X * tc, pz = oz + d.Z * tc;
                        if (px * px + pz * pz > r * r) continue;
                        best = tc; n = new Vector3d(0, side, 0);
                    }
                if (best == double.MaxValue) return false;
                t = best; normal = n;
                return true;
            }
        }
    }

    /// <summary>Slab test; reports the entry (or, from inside, exit) face.</summary>
    public static bool RayBox(Vector3d o, Vector3d d, Vector3d min, Vector3d max, double tMin, double tMax, out double t, out int axis, out int sign)
    {
        double enter = double.NegativeInfinity, exit = double.PositiveInfinity;
        int enterAxis = 0, enterSign = 0, exitAxis = 0, exitSign = 0;
        t = 0; axis = 0; sign = 0;
        for (int k = 0; k < 3; k++)
        {
            double ok = o[k], dk = d[k], lo = min[k], hi = max[k];
            if (Math.Abs(dk) < 1e-15)
            {
                if (ok < lo || ok > hi) return false;
                continue;
            }
            double t0 = (lo - ok) / dk, t1 = (hi - ok) / dk;
            int s0 = -1, s1 = 1;
            if (t0 > t1) { (t0, t1) = (t1, t0); (s0, s1) = (s1, s0); }
            if (t0 > enter) { enter = t0; enterAxis = k; enterSign = s0; }
            if (t1 < exit) { exit = t1; exitAxis = k; exitSign = s1; }
            if (enter > exit) return false;
        }
        if (enter > tMin && enter < tMax) { t = enter; axis = enterAxis; sign = enterSign; return true; }
        if (exit > tMin && exit < tMax && enter <= tMin) { t = exit; axis = exitAxis; sign = exitSign; return true; }
        return false;
    }
}
