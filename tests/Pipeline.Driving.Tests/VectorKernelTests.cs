using Pipeline.Driving.Geometry;
using Pipeline.Driving.RangeView;
using RV = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Tests;

/// <summary>The SIMD kernels of the range path against the scalar library functions they replace.</summary>
public class VectorKernelTests
{
    [Fact]
    public void Vector_atan2_is_within_a_few_ulps_of_the_library_in_every_octant()
    {
        var rng = new Random(17);
        var ys = new List<double>(); var xs = new List<double>();
        for (int i = 0; i < 200_000; i++)
        {
            double scale = Math.Pow(10, rng.Next(-3, 4));
            ys.Add((rng.NextDouble() * 2 - 1) * scale); xs.Add((rng.NextDouble() * 2 - 1) * scale * Math.Pow(10, rng.Next(-2, 3)));
        }
        // axes, diagonals, signed zeros, the reduction's switch point tan(pi/8)
        double[] special = [0.0, -0.0, 1, -1, 54, -54, 1e-300, Math.Tan(Math.PI / 8), Math.BitIncrement(Math.Tan(Math.PI / 8)), Math.BitDecrement(Math.Tan(Math.PI / 8))];
        foreach (var a in special) foreach (var b in special) { ys.Add(a); xs.Add(b); }
        var got = new double[ys.Count];
        VectorAngles.Atan2(ys.ToArray(), xs.ToArray(), got);
        double worst = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double expected = Math.Atan2(ys[i], xs[i]);
            if (expected == 0) { Assert.Equal(expected, got[i]); Assert.Equal(double.IsNegative(expected), double.IsNegative(got[i])); continue; }
            double ulps = Math.Abs(got[i] - expected) / (Math.BitIncrement(Math.Abs(expected)) - Math.Abs(expected));
            worst = Math.Max(worst, ulps);
            Assert.True(ulps <= 4, $"atan2({ys[i]:R}, {xs[i]:R}) = {expected:R}, got {got[i]:R} ({ulps} ulps)");
        }
        Assert.True(worst > 0); // the comparison is not vacuous: the kernel is not the library
    }

    [Fact]
    public void Range_view_places_points_on_column_edges_as_the_library_formula_does()
    {
        // points on the axes and diagonals sit exactly on column edges (yaw a multiple of pi/4: W/8 columns apart);
        // points on beams sit at a row centre. The pixel must be the one the library's atan2/asin give.
        var options = RangeViewOptions.NuScenes;
        var pts = new List<float>();
        var rng = new Random(5);
        foreach (var (x, y) in new (float, float)[] { (10, 0), (-10, 0), (0, 10), (0, -10), (7, 7), (-7, 7), (7, -7), (-7, -7), (10, -0f), (-10, -0f) })
            for (int k = 0; k < 8; k++) pts.AddRange([x * (1 + k / 8f), y * (1 + k / 8f), (float)(rng.NextDouble() * 4 - 2), k]);
        for (int i = 0; i < 4000; i++)
        {
            double yaw = (rng.Next(options.Width) - options.Width / 2) * 2 * Math.PI / options.Width, d = 2 + rng.NextDouble() * 50;
            double pitch = options.BeamPitch(rng.Next(options.Height)) + (rng.NextDouble() - 0.5) * 0.0232;
            pts.AddRange([(float)(d * Math.Cos(yaw) * Math.Cos(pitch)), (float)(-d * Math.Sin(yaw) * Math.Cos(pitch)), (float)(d * Math.Sin(pitch)), i % 256]);
        }
        var points = pts.ToArray();
        var view = RV.FromPoints(points, 4);
        int rows = options.Height - 1, placed = 0;
        for (int i = 0; i < points.Length / 4; i++)
        {
            double x = points[4 * i], y = points[4 * i + 1], z = points[4 * i + 2];
            double d = Math.Sqrt(x * x + y * y + z * z);
            double yaw = -Math.Atan2(y, x), pitch = Math.Asin(z / d);
            int row = rows - (int)Math.Round(Math.Clamp((pitch - options.MinPitch) / (options.MaxPitch - options.MinPitch) * rows, 0, rows), MidpointRounding.ToEven);
            int col = Math.Min(options.Width - 1, (int)Math.Floor(yaw / Math.PI * (options.Width / 2.0) + options.Width / 2.0));
            int p = row * options.Width + col;
            Assert.True(view.PointIndex[p] >= 0, $"point {i} ({x}, {y}, {z}): pixel {row},{col} is empty");
            if (view.PointIndex[p] != i) continue; // lost to a nearer point; the winner is checked in its own turn
            placed++;
            Assert.Equal((float)yaw, view.Yaw[p]);
            Assert.Equal((float)pitch, view.Pitch[p]);
            Assert.Equal((float)d, view.Depth[p]);
        }
        Assert.Equal(view.Kept, placed);
    }

    [Fact]
    public void Plane_normalisations_equal_the_per_sample_formulas()
    {
        var rng = new Random(3);
        var depth = new float[1003]; var intensity = new float[1003];
        for (int i = 0; i < depth.Length; i++)
        {
            depth[i] = i % 7 == 0 ? 0 : (float)(rng.NextDouble() * 60);
            intensity[i] = i % 5 == 0 ? rng.Next(256) : (float)(rng.NextDouble() * 255);
        }
        var norm = DepthNormalisation.ForBox([12.5, 13.1, 15.9, 14.2]);
        var d = new float[depth.Length]; var n = new float[intensity.Length];
        norm.Normalise(depth, d);
        DepthNormalisation.NormaliseIntensity(intensity, n);
        for (int i = 0; i < depth.Length; i++)
        {
            Assert.Equal((float)norm.Normalise(depth[i]), d[i]); // the same double operations
            // SIMD exp is within 2 double ulps of Math.Exp: the float result is the same or one float ulp away
            float expected = (float)DepthNormalisation.NormaliseIntensity(intensity[i]);
            Assert.True(Math.Abs(expected - n[i]) <= Math.BitIncrement(Math.Abs(expected)) - Math.Abs(expected), $"intensity {intensity[i]}: {expected} vs {n[i]}");
        }
    }

    [Fact]
    public void Nearest_resize_repeats_rows_and_pools_columns()
    {
        float[] src = [1, 2, 3, 4, 10, 20, 30, 40]; // 4 x 2
        var dst = new float[2 * 5];
        RangeResize.Resize(src, 4, 2, dst, 2, 5); // columns pooled by 2, rows nearest: 0, 0, 0, 1, 1
        Assert.Equal([1.5f, 3.5f, 1.5f, 3.5f, 1.5f, 3.5f, 15, 35, 15, 35], dst);
    }

    [Fact]
    public void Extract_wraps_around_the_seam_like_the_tiled_view()
    {
        var plane = Enumerable.Range(0, 2 * 1096).Select(i => (float)i).ToArray();
        var box = new RangeBox([1090, 1100, 1090, 1100, 1090, 1100, 1090, 1100], [0, 0, 1, 1, 0, 0, 1, 1], [5, 5, 5, 5, 6, 6, 6, 6], 1096);
        var crop = RangeCrop.Plan(box, 2);
        var cut = crop.Extract(plane);
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < crop.CropWidth; c++)
                Assert.Equal(plane[r * 1096 + ((crop.Start + c) % 1096 + 1096) % 1096], cut[r * crop.CropWidth + c]);
        Assert.True(crop.Start + crop.CropWidth > 1096); // the crop does cross the seam
    }
}
