using Pipeline.Driving.Geometry;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Driving.Synthetic;

/// <summary>Procedural models: cars (body, cabin with windows, roof, wheels, lights), pedestrians, buildings.</summary>
public static class ObjectModels
{
    /// <summary>The annotated box is the model's extent plus this margin on length and width (nuScenes boxes are snug, not tight).</summary>
    public const double BoxMargin = 0.1;

    public static SceneObject Car(int id, PhantomRandom rng, Vector3d start, Vector3d velocity, double heading)
    {
        double l = rng.Uniform(3.9, 4.9), w = rng.Uniform(1.7, 2.0), h = rng.Uniform(1.42, 1.72);
        var paint = Material.CarPaints[rng.Next(0, Material.CarPaints.Length)];
        double clearance = 0.22, beltline = 0.56 * h, wheelR = rng.Uniform(0.30, 0.36);
        double cabinBack = -0.36 * l, cabinFront = rng.Uniform(0.10, 0.20) * l;
        var prims = new List<Primitive>
        {
            // body
            Primitive.Box(-l / 2, -w / 2, clearance, l / 2, w / 2, beltline, paint),
            // cabin: glass all round, pillars and roof in paint
            Primitive.Box(cabinBack, -0.45 * w, beltline, cabinFront, 0.45 * w, h - 0.07, Material.Glass),
            Primitive.Box(cabinBack - 0.02, -0.46 * w, h - 0.07, cabinFront + 0.02, 0.46 * w, h, paint),
            Primitive.Box(cabinBack - 0.02, -0.46 * w, beltline, cabinBack + 0.10, -0.36 * w, h - 0.07, paint),
            Primitive.Box(cabinBack - 0.02, 0.36 * w, beltline, cabinBack + 0.10, 0.46 * w, h - 0.07, paint),
            Primitive.Box(cabinFront - 0.08, -0.46 * w, beltline, cabinFront + 0.02, -0.40 * w, h - 0.07, paint),
            Primitive.Box(cabinFront - 0.08, 0.40 * w, beltline, cabinFront + 0.02, 0.46 * w, h - 0.07, paint),
            // lights
            Primitive.Box(l / 2 - 0.01, -0.45 * w, beltline - 0.16, l / 2 + 0.01, -0.25 * w, beltline - 0.06, Material.HeadLight),
            Primitive.Box(l / 2 - 0.01, 0.25 * w, beltline - 0.16, l / 2 + 0.01, 0.45 * w, beltline - 0.06, Material.HeadLight),
            Primitive.Box(-l / 2 - 0.01, -0.46 * w, beltline - 0.14, -l / 2 + 0.01, -0.30 * w, beltline - 0.05, Material.TailLight),
            Primitive.Box(-l / 2 - 0.01, 0.30 * w, beltline - 0.14, -l / 2 + 0.01, 0.46 * w, beltline - 0.05, Material.TailLight),
        };
        foreach (var sx in new[] { -1, 1 })
            foreach (var sy in new[] { -1, 1 })
                prims.Add(Primitive.Wheel(sx * 0.32 * l, sy * (w / 2 - 0.12), wheelR, wheelR, 0.11, Material.Tyre));
        return new SceneObject(id, SceneObjectKind.Car, prims, start, velocity, heading, (w + BoxMargin, l + BoxMargin, h + 0.02));
    }

    public static SceneObject Pedestrian(int id, PhantomRandom rng, Vector3d start, Vector3d velocity, double heading)
    {
        double h = rng.Uniform(1.55, 1.9), s = h / 1.75;
        var shirt = Material.Shirts[rng.Next(0, Material.Shirts.Length)];
        double hip = 0.50 * h, shoulder = 0.82 * h, head = 0.11 * s;
        var prims = new List<Primitive>
        {
            Primitive.Box(-0.09 * s, -0.17 * s, 0, 0.09 * s, -0.03 * s, hip, Material.Trousers),
            Primitive.Box(-0.09 * s, 0.03 * s, 0, 0.09 * s, 0.17 * s, hip, Material.Trousers),
            Primitive.Box(-0.12 * s, -0.21 * s, hip, 0.12 * s, 0.21 * s, shoulder, shirt),
            Primitive.Box(-0.06 * s, -0.28 * s, hip + 0.05 * h, 0.06 * s, -0.21 * s, shoulder, shirt),
            Primitive.Box(-0.06 * s, 0.21 * s, hip + 0.05 * h, 0.06 * s, 0.28 * s, shoulder, shirt),
            Primitive.Sphere(new Vector3d(0, 0, h - head), head, Material.Skin),
        };
        return new SceneObject(id, SceneObjectKind.Pedestrian, prims, start, velocity, heading, (0.62 * s + BoxMargin, 0.30 * s + BoxMargin + 0.3, h + 0.02));
    }

    public static SceneObject Building(int id, PhantomRandom rng, double x0, double x1, double y0, double y1)
    {
        double height = rng.Uniform(6, 24);
        var facade = Material.Facades[rng.Next(0, Material.Facades.Length)];
        double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, hx = (x1 - x0) / 2, hy = (y1 - y0) / 2;
        var prims = new List<Primitive> { Primitive.Box(-hx, -hy, 0, hx, hy, height, facade, SurfacePattern.Windows) };
        return new SceneObject(id, SceneObjectKind.Scenery, prims, new Vector3d(cx, cy, 0), Vector3d.Zero, 0, (2 * hy, 2 * hx, height));
    }

    public static SceneObject Slab(int id, double x0, double x1, double y0, double y1, double height, Material material)
    {
        double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, hx = (x1 - x0) / 2, hy = (y1 - y0) / 2;
        return new SceneObject(id, SceneObjectKind.Scenery, [Primitive.Box(-hx, -hy, 0, hx, hy, height, material)], new Vector3d(cx, cy, 0), Vector3d.Zero, 0, (2 * hy, 2 * hx, height));
    }
}
