using Pipeline.Driving.Geometry;
using Pipeline.Driving.RangeView;
using RV = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Tests;

public class RangeViewTests
{
    private static readonly Lazy<(float[] Points, RV View)> Sweep = new(() =>
    {
        var points = Vectors.Get("range_view").GetProperty("points").Floats();
        return (points, RV.FromPoints(points, 4));
    });

    [Fact]
    public void Range_view_matches_reference_pixels_depths_and_angles()
    {
        var r = Vectors.Get("range_view");
        var (_, view) = Sweep.Value;
        Assert.Equal(32, view.Height);
        Assert.Equal(1096, view.Width);
        Assert.Equal(r.GetProperty("out_of_range").GetInt32(), view.OutOfRange);
        Assert.Equal(r.GetProperty("collided").GetInt32(), view.Collided);
        var pixel = r.GetProperty("pixel").Ints();
        var index = r.GetProperty("index").Ints();
        var depth = r.GetProperty("depth").Doubles();
        var intensity = r.GetProperty("intensity").Doubles();
        var yaw = r.GetProperty("yaw").Doubles();
        var pitch = r.GetProperty("pitch").Doubles();
        var filled = Enumerable.Range(0, view.PointIndex.Length).Where(p => view.PointIndex[p] >= 0).ToArray();
        Assert.Equal(pixel, filled);
        for (int k = 0; k < pixel.Length; k++)
        {
            int p = pixel[k];
            Assert.Equal(index[k], view.PointIndex[p]);
            Assert.Equal((float)depth[k], view.Depth[p]);
            Assert.Equal((float)intensity[k], view.Intensity[p]);
            // angles are computed in double precision (a few double ulps from the library) and stored as floats
            Assert.Equal((float)yaw[k], view.Yaw[p]);
            Assert.Equal((float)pitch[k], view.Pitch[p]);
        }
    }

    [Fact]
    public void Range_view_inverse_reproduces_every_kept_point()
    {
        var (points, view) = Sweep.Value;
        var reference = Vectors.Get("range_view").GetProperty("reconstructed").Rows();
        var (back, pixels) = view.ToPoints();
        Assert.Equal(view.Kept, pixels.Length);
        Assert.Equal(view.Points, view.Kept + view.Collided + view.OutOfRange);
        for (int k = 0; k < pixels.Length; k++)
        {
            int src = view.PointIndex[pixels[k]];
            var original = new Vector3d(points[4 * src], points[4 * src + 1], points[4 * src + 2]);
            var got = new Vector3d(back[4 * k], back[4 * k + 1], back[4 * k + 2]);
            // float32 depth and angles: a few ulps of a 54 m range
            Assert.True((original - got).Length <= 2e-5 * Math.Max(1, original.Length), $"point {src}: {original} -> {got}");
            Assert.True((new Vector3d(reference[k][0], reference[k][1], reference[k][2]) - got).Length <= 2e-5 * Math.Max(1, original.Length));
            Assert.Equal(points[4 * src + 3], back[4 * k + 3]);
        }
    }

    [Fact]
    public void Nearest_point_wins_a_pixel_and_collisions_are_counted()
    {
        float[] points = [10, 0, 0, 50, 5, 0, 0, 100, 20, 0, 0, 150, 5, 0, 0, 200, 0.5f, 0, 0, 9, 80, 0, 0, 9];
        var view = RV.FromPoints(points, 4);
        Assert.Equal(2, view.OutOfRange);
        Assert.Equal(3, view.Collided);
        Assert.Equal(1, view.Kept);
        int p = Array.FindIndex(view.PointIndex, i => i >= 0);
        Assert.Equal(1, view.PointIndex[p]); // 5 m, the earlier of the two at 5 m
        Assert.Equal(100f, view.Intensity[p]);
        Assert.Equal(5f, view.Depth[p]);
    }

    [Fact]
    public void Range_boxes_crops_and_resized_planes_match_reference()
    {
        var (_, view) = Sweep.Value;
        foreach (var b in Vectors.Get("range_boxes").EnumerateArray())
        {
            var wlh = b.GetProperty("wlh").Doubles();
            var box = new Box3(Vector3d.From(b.GetProperty("center").Doubles()), wlh[0], wlh[1], wlh[2], Quaternion.From(b.GetProperty("q").Doubles()));
            var rb = RangeBox.Project(box);
            var col = b.GetProperty("column").Doubles(); var row = b.GetProperty("row").Doubles(); var depth = b.GetProperty("depth").Doubles();
            for (int i = 0; i < 8; i++) { Assert.Equal(col[i], rb.Columns[i], 9); Assert.Equal(row[i], rb.Rows[i], 9); Assert.Equal(depth[i], rb.Depths[i], 9); }

            var image = RangeImage.Create(view, rb, 64);
            Assert.Equal(b.GetProperty("crop_width").GetInt32(), image.Crop.CropWidth);
            Assert.Equal(b.GetProperty("start").GetInt32(), image.Crop.Start);
            Assert.Equal(b.GetProperty("min_d").GetDouble(), image.Normalisation.MinD, 12);
            Assert.Equal(b.GetProperty("max_d").GetDouble(), image.Normalisation.MaxD, 12);
            Assert.Equal(b.GetProperty("crop_depth").Floats(), image.Crop.Extract(view.Depth));
            AssertAll(b.GetProperty("resized_depth").Floats(), image.Depth, 2e-6f);
            AssertAll(b.GetProperty("resized_intensity").Floats(), image.Intensity, 2e-6f);
            Assert.Equal(b.GetProperty("mask").Ints(), image.Mask.Select(x => (int)x).ToArray());
        }
    }

    [Fact]
    public void Crop_then_restore_gives_back_the_view_and_D_round_trip_is_exact_when_upsampling()
    {
        var (_, view) = Sweep.Value;
        foreach (var b in Vectors.Get("range_boxes").EnumerateArray())
        {
            var wlh = b.GetProperty("wlh").Doubles();
            var rb = RangeBox.Project(new Box3(Vector3d.From(b.GetProperty("center").Doubles()), wlh[0], wlh[1], wlh[2], Quaternion.From(b.GetProperty("q").Doubles())));
            var crop = RangeCrop.Plan(rb);
            var cut = crop.Extract(view.Depth);
            var restored = new float[view.Depth.Length];
            crop.Restore(cut, restored);
            for (int c = 0; c < crop.CropWidth; c++)
                for (int r = 0; r < 32; r++)
                    Assert.Equal(view.Depth[r * 1096 + crop.ViewColumn(c)], restored[r * 1096 + crop.ViewColumn(c)]);

            // D = 512 >= every crop width: nearest up, average pooling down -> the object-centric view again
            var image = RangeImage.Create(view, rb, 512);
            var (depth, intensity) = image.ToObjectCentric();
            var expectedIntensity = crop.Extract(view.Intensity);
            for (int i = 0; i < cut.Length; i++)
            {
                Assert.True(Math.Abs(cut[i] - depth[i]) <= 1e-4 * Math.Max(1, cut[i]), $"depth {cut[i]} -> {depth[i]}");
                Assert.True(Math.Abs(expectedIntensity[i] - intensity[i]) <= 2e-3, $"intensity {expectedIntensity[i]} -> {intensity[i]}");
            }
        }
    }

    [Fact]
    public void Crop_width_rule_follows_powers_of_two_between_64_and_512()
    {
        Assert.Equal(64, RangeCrop.CropWidthFor(0));
        Assert.Equal(64, RangeCrop.CropWidthFor(10));
        Assert.Equal(64, RangeCrop.CropWidthFor(42.6));
        Assert.Equal(128, RangeCrop.CropWidthFor(43));
        Assert.Equal(256, RangeCrop.CropWidthFor(100));
        Assert.Equal(512, RangeCrop.CropWidthFor(300));
        Assert.Equal(512, RangeCrop.CropWidthFor(1000));
    }

    [Fact]
    public void Resize_pools_integer_downscales_and_takes_nearest_otherwise()
    {
        float[] src = [1, 2, 3, 4, 5, 6, 7, 8];
        var down = new float[4];
        RangeResize.Resize(src, 8, 1, down, 4, 1);
        Assert.Equal([1.5f, 3.5f, 5.5f, 7.5f], down);
        var up = new float[16];
        RangeResize.Resize(src, 8, 1, up, 16, 1);
        Assert.Equal([1f, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8], up);
        var odd = new float[3];
        RangeResize.Resize(src, 8, 1, odd, 3, 1);
        Assert.Equal([1f, 3, 6], odd); // floor(0), floor(8/3), floor(16/3)
    }

    private static void AssertAll(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }
}
