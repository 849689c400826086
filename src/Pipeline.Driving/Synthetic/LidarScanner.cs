using Pipeline.Driving.Geometry;
using Pipeline.Driving.RangeView;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Driving.Synthetic;

/// <summary>
/// A 32-beam spinning lidar ray-cast against the world: beam pitch θ_k = 0.0232 k rad, k = -23..8 (the nuScenes
/// HDL-32E layout, docs/driving.md), <see cref="AzimuthSteps"/> firings per turn, returns up to 80 m. Each point is
/// x, y, z (sensor frame), intensity = the material's reflectivity x (0.4 + 0.6 |cos incidence|), rounded to an integer
/// in 0-255, and ring = k + 23 (0 = the lowest beam). Ranges get ±1 cm of seeded noise.
/// </summary>
public static class LidarScanner
{
    public const int AzimuthSteps = 1084;
    public const double MaxRange = 80;
    public const int Stride = 5;

    public static float[] Scan(SyntheticWorld world, double time, RigidTransform lidarToRoad, ulong seed, CancellationToken cancellationToken = default)
    {
        var options = RangeViewOptions.NuScenes;
        int beams = options.Height;
        var rot = lidarToRoad.Rotation.ToMatrix();
        var perBeam = new List<float>[beams];
        Parallel.For(0, beams, new ParallelOptions { CancellationToken = cancellationToken }, b =>
        {
            int k = options.LowestBeam + b;
            double pitch = options.BeamPitchStep * k;
            var rng = PhantomRandom.For(seed, b);
            var list = perBeam[b] = new List<float>(AzimuthSteps * Stride);
            for (int j = 0; j < AzimuthSteps; j++)
            {
                double noise = rng.Uniform(-0.01, 0.01);
                double az = 2 * Math.PI * (j + 0.37 * b / beams) / AzimuthSteps - Math.PI;
                var local = new Vector3d(Math.Cos(pitch) * Math.Cos(az), Math.Cos(pitch) * Math.Sin(az), Math.Sin(pitch));
                var dir = rot.Apply(local);
                if (!world.Cast(lidarToRoad.Translation, dir, time, MaxRange, out var hit)) continue;
                double range = hit.Distance + noise;
                double incidence = Math.Abs(hit.Normal.Dot(dir));
                double intensity = Math.Clamp(Math.Round(hit.Material.Intensity * (0.4 + 0.6 * incidence)), 0, 255);
                list.Add((float)(local.X * range)); list.Add((float)(local.Y * range)); list.Add((float)(local.Z * range));
                list.Add((float)intensity); list.Add(b);
            }
        });
        // firing order: azimuth-major, as a spinning sensor writes them
        var counts = perBeam.Select(l => l.Count / Stride).ToArray();
        var result = new float[counts.Sum() * Stride];
        var cursor = new int[beams];
        int o = 0;
        for (int j = 0; j < AzimuthSteps * 2 && o < result.Length; j++)
            for (int b = 0; b < beams; b++)
            {
                if (cursor[b] >= counts[b]) continue;
                perBeam[b].CopyTo(cursor[b] * Stride, result, o, Stride);
                cursor[b]++; o += Stride;
            }
        return result;
    }
}
