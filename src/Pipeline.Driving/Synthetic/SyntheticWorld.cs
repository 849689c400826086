using Pipeline.Driving.Geometry;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Driving.Synthetic;

/// <summary>A ray's first hit in the world.</summary>
public readonly record struct WorldHit(double Distance, Vector3d Point, Vector3d Normal, Material Material, int ObjectId);

/// <summary>
/// One synthetic street, in a road frame (x along the road, y to the left, z up, ground at z = 0): a four-lane road
/// (|y| ≤ 7 m: two inner driving lanes, outer parking strips) with a yellow centre line, dashed white lines and white edge lines; raised sidewalks (7-10 m);
/// buildings with windows beyond; parked and moving cars; pedestrians on the sidewalks; and a sun direction. The ego
/// vehicle drives along y = -1.75 m at <see cref="EgoSpeed"/>. Pure: the same seed gives the same world.
/// </summary>
public sealed class SyntheticWorld
{
    public const double RoadHalfWidth = 7, SidewalkOuter = 10, LaneWidth = 3.5, EgoLaneY = -1.75, SidewalkHeight = 0.15;

    private SyntheticWorld(List<SceneObject> objects, Vector3d sun, double egoSpeed, double egoStartX)
    {
        Objects = objects; Sun = sun; EgoSpeed = egoSpeed; EgoStartX = egoStartX;
    }

    public IReadOnlyList<SceneObject> Objects { get; }
    /// <summary>Unit vector towards the sun.</summary>
    public Vector3d Sun { get; }
    public double EgoSpeed { get; }
    public double EgoStartX { get; }

    /// <summary>The ego vehicle's pose in the road frame at <paramref name="time"/> (rear axle on the ground, facing +x).</summary>
    public RigidTransform EgoPoseAt(double time) => new(new Vector3d(EgoStartX + EgoSpeed * time, EgoLaneY, 0), Quaternion.Identity);

    public static SyntheticWorld Create(ulong seed, int sceneIndex, double duration)
    {
        var rng = PhantomRandom.For(seed, 13, sceneIndex);
        var objects = new List<SceneObject>();
        int id = 0;
        double egoSpeed = rng.Uniform(4, 9);
        const double egoStartX = 0;
        double xMin = -70, xMax = egoSpeed * duration + 90;

        // sidewalks (kerbs) and buildings on both sides
        objects.Add(ObjectModels.Slab(id++, xMin, xMax, RoadHalfWidth, SidewalkOuter, SidewalkHeight, Material.Sidewalk));
        objects.Add(ObjectModels.Slab(id++, xMin, xMax, -SidewalkOuter, -RoadHalfWidth, SidewalkHeight, Material.Sidewalk));
        foreach (var side in new[] { -1, 1 })
        {
            double x = xMin;
            while (x < xMax)
            {
                double length = rng.Uniform(8, 26), gap = rng.Chance(0.3) ? rng.Uniform(3, 10) : 0;
                double depth = rng.Uniform(8, 16), setback = rng.Uniform(11, 14);
                double y0 = side > 0 ? setback : -setback - depth, y1 = side > 0 ? setback + depth : -setback;
                objects.Add(ObjectModels.Building(id++, rng, x, Math.Min(x + length, xMax), y0, y1));
                x += length + gap;
            }
        }

        // parked cars along both kerbs
        foreach (var side in new[] { -1, 1 })
        {
            double x = xMin + rng.Uniform(0, 8);
            while (x < xMax - 5)
            {
                if (rng.Chance(0.55))
                    objects.Add(ObjectModels.Car(id++, rng, new Vector3d(x, side * (RoadHalfWidth - 1.15), 0), Vector3d.Zero, side > 0 ? Math.PI : 0));
                x += rng.Uniform(5.5, 9);
            }
        }

        // moving cars: one ahead of the ego in its lane, some in the other lanes
        objects.Add(ObjectModels.Car(id++, rng, new Vector3d(egoStartX + rng.Uniform(10, 18), EgoLaneY, 0), new Vector3d(egoSpeed + rng.Uniform(-1.5, 1.5), 0, 0), 0));
        int movers = rng.Next(2, 5);
        for (int i = 0; i < movers; i++)
        {
            // the inner lanes carry traffic (oncoming at y = +1.75, with the ego at -1.75); the outer ones are parking strips
            bool oncoming = i > 0 || rng.Chance(0.5);
            double speed = rng.Uniform(5, 12);
            var start = oncoming
                ? new Vector3d(rng.Uniform(20, 70) + speed * duration, -EgoLaneY, 0)
                : new Vector3d(egoStartX - rng.Uniform(9, 20), EgoLaneY, 0);
            if (!oncoming) speed = egoSpeed * rng.Uniform(0.9, 1.0);
            objects.Add(ObjectModels.Car(id++, rng, start, new Vector3d(oncoming ? -speed : speed, 0, 0), oncoming ? Math.PI : 0));
        }

        // pedestrians walking along the sidewalks, a few standing
        int walkers = rng.Next(3, 8);
        for (int i = 0; i < walkers; i++)
        {
            int side = rng.Chance(0.5) ? 1 : -1;
            double speed = rng.Chance(0.2) ? 0 : rng.Uniform(0.9, 1.6);
            int dir = rng.Chance(0.5) ? 1 : -1;
            var start = new Vector3d(rng.Uniform(-5, egoSpeed * duration + 35), side * rng.Uniform(7.8, 9.2), SidewalkHeight);
            objects.Add(ObjectModels.Pedestrian(id++, rng, start, new Vector3d(dir * speed, 0, 0), dir > 0 ? 0 : Math.PI));
        }

        double elevation = rng.Uniform(0.45, 1.05), azimuth = rng.Uniform(-Math.PI, Math.PI);
        var sun = new Vector3d(Math.Cos(elevation) * Math.Cos(azimuth), Math.Cos(elevation) * Math.Sin(azimuth), Math.Sin(elevation));
        return new SyntheticWorld(objects, sun, egoSpeed, egoStartX);
    }

    /// <summary>The first surface a road-frame ray meets before <paramref name="maxDistance"/> at <paramref name="time"/>.</summary>
    public bool Cast(Vector3d origin, Vector3d direction, double time, double maxDistance, out WorldHit hit)
    {
        hit = default;
        double best = maxDistance;
        bool found = false;
        // the ground plane z = 0
        if (direction.Z < -1e-12)
        {
            double t = -origin.Z / direction.Z;
            if (t > 1e-6 && t < best)
            {
                var p = origin + direction * t;
                best = t; found = true;
                hit = new WorldHit(t, p, new Vector3d(0, 0, 1), GroundMaterial(p.X, p.Y), -1);
            }
        }
        foreach (var o in Objects)
        {
            if (o.Intersect(origin, direction, time, best, out var t, out var n, out var prim, out var local))
            {
                best = t; found = true;
                hit = new WorldHit(t, origin + direction * t, n, SurfaceMaterial(prim!, local, o), o.Id);
            }
        }
        return found;
    }

    /// <summary>Whether anything lies between a point and the sun.</summary>
    public bool InShadow(Vector3d point, Vector3d normal, double time) =>
        Cast(point + normal * 1e-3, Sun, time, 200, out _);

    /// <summary>Road surface with markings: yellow centre line, dashed white lane lines (3 m every 9 m), white edge lines.</summary>
    public static Material GroundMaterial(double x, double y)
    {
        double ay = Math.Abs(y);
        if (ay > RoadHalfWidth) return Material.Grass;
        if (ay < 0.22 && ay > 0.08) return Material.LaneYellow;
        if (Math.Abs(ay - LaneWidth) < 0.08 && ((x % 9) + 9) % 9 < 3) return Material.LaneWhite;
        if (Math.Abs(ay - (RoadHalfWidth - 0.25)) < 0.08) return Material.LaneWhite;
        return Material.Asphalt;
    }

    private static Material SurfaceMaterial(Primitive p, Vector3d local, SceneObject o)
    {
        if (p.Pattern != SurfacePattern.Windows) return p.Material;
        // vertical faces of a facade: windows in a 2.5 m x 3 m grid above the ground floor's lower half
        bool onXFace = Math.Abs(local.X - p.Min.X) < 1e-6 || Math.Abs(local.X - p.Max.X) < 1e-6;
        bool onYFace = Math.Abs(local.Y - p.Min.Y) < 1e-6 || Math.Abs(local.Y - p.Max.Y) < 1e-6;
        if (!onXFace && !onYFace || local.Z > p.Max.Z - 0.5) return p.Material;
        double along = onYFace ? local.X - p.Min.X : local.Y - p.Min.Y;
        double storey = local.Z % 3, bay = along % 2.5;
        return storey > 1.0 && storey < 2.4 && bay > 0.6 && bay < 1.9 && local.Z > 1 ? Material.Glass : p.Material;
    }
}
