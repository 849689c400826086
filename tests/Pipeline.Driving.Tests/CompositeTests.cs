using System.Text.Json;
using Pipeline.Driving.Compositing;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.RangeView;
using Xunit;

namespace Pipeline.Driving.Tests;

/// <summary>Compositing against data/make_composite_vectors.py (scipy/numpy, written from docs/driving.md "Compositing").</summary>
public sealed class CompositeTests
{
    private static readonly Lazy<JsonElement> Root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "composite_vectors.json"))).RootElement);

    [Fact]
    public void Camera_blend_matches_the_reference_and_leaves_pixels_beyond_the_margin_untouched()
    {
        var v = Root.Value.GetProperty("camera");
        int w = v.GetProperty("width").GetInt32(), h = v.GetProperty("height").GetInt32(), d = v.GetProperty("resolution").GetInt32();
        var image = v.GetProperty("image").Ints().Select(x => (byte)x).ToArray();
        var crop = v.GetProperty("crop").Ints();
        var u = v.GetProperty("hull_u").Doubles();
        var vv = v.GetProperty("hull_v").Doubles();
        var expected = v.GetProperty("result").Ints();
        var r = CameraComposite.Paste(image, w, h, crop[0], crop[1], crop[2], v.GetProperty("edited").Floats(), d, u, vv, v.GetProperty("sigma").GetDouble());
        int mismatches = Enumerable.Range(0, expected.Length).Count(i => r.Rgb[i] != expected[i]);
        Assert.Equal(0, mismatches);
        Assert.True(r.ChangedPixels > 50);
        // every pixel farther than the margin from the hull's bounding box is the source's byte
        int margin = v.GetProperty("margin").GetInt32();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (x < u.Min() - margin - 1 || x > u.Max() + margin || y < vv.Min() - margin - 1 || y > vv.Max() + margin)
                    for (int c = 0; c < 3; c++) Assert.Equal(image[(y * w + x) * 3 + c], r.Rgb[(y * w + x) * 3 + c]);
    }

    [Fact]
    public void Lidar_composite_matches_the_reference_and_keeps_other_points_bit_for_bit()
    {
        var v = Root.Value.GetProperty("lidar");
        var points = v.GetProperty("points").Floats();
        var b = v.GetProperty("box");
        var c = b.GetProperty("center").Doubles();
        var wlh = b.GetProperty("wlh").Doubles();
        var box = new Box3(new Vector3d(c[0], c[1], c[2]), wlh[0], wlh[1], wlh[2], Quaternion.FromYaw(b.GetProperty("yaw").GetDouble()));
        var view = RangeView.RangeView.FromPoints(points, 5);
        var range = RangeImage.Create(view, RangeBox.Project(box), v.GetProperty("resolution").GetInt32());
        Assert.Equal(v.GetProperty("crop_start").GetInt32(), range.Crop.Start);
        Assert.Equal(v.GetProperty("crop_width").GetInt32(), range.Crop.CropWidth);
        var result = LidarComposite.Paste(points, view, range, v.GetProperty("edited_depth").Floats(), v.GetProperty("edited_intensity").Floats(), box);
        int kept = v.GetProperty("kept_count").GetInt32();
        Assert.Equal(v.GetProperty("removed").GetInt32(), result.Removed);
        var added = v.GetProperty("added").Doubles();
        Assert.Equal(added.Length / 5, result.Added);
        Assert.Equal(v.GetProperty("added_inside").GetInt32(), result.AddedInside);
        Assert.Equal(kept * 5 + added.Length, result.Points.Length);
        // kept points: the source's floats in source order, bit for bit
        int k = 0;
        for (int i = 0; i < points.Length / 5; i++)
        {
            var p = new Vector3d(points[i * 5], points[i * 5 + 1], points[i * 5 + 2]);
            if (box.Contains(p)) continue;
            if (k < kept && Enumerable.Range(0, 5).All(j => BitConverter.SingleToInt32Bits(points[i * 5 + j]) == BitConverter.SingleToInt32Bits(result.Points[k * 5 + j]))) k++;
        }
        Assert.Equal(kept, k);
        for (int i = 0; i < added.Length; i++)
            Assert.True(Math.Abs(added[i] - result.Points[kept * 5 + i]) <= 1e-4 * Math.Max(1, Math.Abs(added[i])), $"added value {i}: {result.Points[kept * 5 + i]} vs {added[i]}");
    }
}
