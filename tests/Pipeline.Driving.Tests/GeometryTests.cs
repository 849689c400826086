using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Tests;

public class GeometryTests
{
    private static Quaternion Q(double[] q) => Quaternion.From(q);
    private static Vector3d V(double[] v) => Vector3d.From(v);

    [Fact]
    public void Quaternion_matrices_match_scipy()
    {
        foreach (var item in Vectors.Get("quaternions").EnumerateArray())
        {
            var m = Q(item.GetProperty("q").Doubles()).ToMatrix();
            var expected = item.GetProperty("matrix").Rows();
            double[] got = [m.M00, m.M01, m.M02, m.M10, m.M11, m.M12, m.M20, m.M21, m.M22];
            for (int i = 0; i < 9; i++) Assert.Equal(expected[i / 3][i % 3], got[i], 12);
        }
    }

    [Fact]
    public void Global_to_ego_to_sensor_matches_homogeneous_inverses()
    {
        var t = Vectors.Get("transforms");
        var ego = new RigidTransform(V(t.GetProperty("ego").GetProperty("t").Doubles()), Q(t.GetProperty("ego").GetProperty("q").Doubles()));
        var sensor = new RigidTransform(V(t.GetProperty("sensor").GetProperty("t").Doubles()), Q(t.GetProperty("sensor").GetProperty("q").Doubles()));
        var g = t.GetProperty("global_points").Rows();
        var e = t.GetProperty("ego_points").Rows();
        var s = t.GetProperty("sensor_points").Rows();
        var sensorToGlobal = RigidTransform.SensorToGlobal(sensor, ego);
        for (int i = 0; i < g.Length; i++)
        {
            AssertClose(V(e[i]), ego.ToChild(V(g[i])), 1e-9);
            AssertClose(V(s[i]), sensor.ToChild(ego.ToChild(V(g[i]))), 1e-9);
            AssertClose(V(s[i]), sensorToGlobal.ToChild(V(g[i])), 1e-9);
            AssertClose(V(g[i]), sensorToGlobal.ToParent(V(s[i])), 1e-9);
            AssertClose(V(g[i]), sensorToGlobal.Inverse().ToChild(V(s[i])), 1e-9);
        }
    }

    [Fact]
    public void Box_corners_and_camera_projection_match_reference()
    {
        var t = Vectors.Get("transforms");
        var ego = new RigidTransform(V(t.GetProperty("ego").GetProperty("t").Doubles()), Q(t.GetProperty("ego").GetProperty("q").Doubles()));
        var cam = new RigidTransform(V(t.GetProperty("sensor").GetProperty("t").Doubles()), Q(t.GetProperty("sensor").GetProperty("q").Doubles()));
        var k = Vectors.Get("intrinsic").Rows();
        var intrinsics = CameraIntrinsics.FromMatrix(k, 1600, 900);
        Assert.Equal(CameraIntrinsics.NuScenesFront, intrinsics);
        var projected = new List<ProjectedBox>();
        foreach (var b in Vectors.Get("boxes").EnumerateArray())
        {
            var wlh = b.GetProperty("wlh").Doubles();
            var box = new Box3(V(b.GetProperty("center").Doubles()), wlh[0], wlh[1], wlh[2], Q(b.GetProperty("q").Doubles()));
            var corners = box.Corners();
            var expected = b.GetProperty("corners").Rows();
            for (int i = 0; i < 8; i++) AssertClose(V(expected[i]), corners[i], 1e-9);
            var p = BoxProjection.Project(box, ego, cam, intrinsics);
            Assert.True(p.InFront);
            var u = b.GetProperty("u").Doubles(); var v = b.GetProperty("v").Doubles(); var d = b.GetProperty("depth").Doubles();
            for (int i = 0; i < 8; i++) { Assert.Equal(u[i], p.U[i], 7); Assert.Equal(v[i], p.V[i], 7); Assert.Equal(d[i], p.Depth[i], 9); }
            var c = b.GetProperty("clipped").Doubles();
            Assert.Equal(c[0], p.ClippedBounds.X0, 7); Assert.Equal(c[1], p.ClippedBounds.Y0, 7);
            Assert.Equal(c[2], p.ClippedBounds.X1, 7); Assert.Equal(c[3], p.ClippedBounds.Y1, 7);
            projected.Add(p);

            var crop = ObjectCentricCameraCrop.Plan(p, 64);
            var cr = b.GetProperty("crop");
            Assert.Equal(cr.GetProperty("left").GetInt32(), crop.Crop.Left);
            Assert.Equal(cr.GetProperty("top").GetInt32(), crop.Crop.Top);
            Assert.Equal(cr.GetProperty("side").GetInt32(), crop.Crop.Width);
            Assert.Equal(cr.GetProperty("mask").Ints(), crop.Mask().Select(x => (int)x).ToArray());
        }
        var decisions = ObjectFilter.Apply(projected.Select((p, i) => new FilterCandidate($"b{i}", 100, p, 1)).ToList(), 1600);
        var boxes = Vectors.Get("boxes").EnumerateArray().ToList();
        for (int i = 0; i < boxes.Count; i++) Assert.Equal(boxes[i].GetProperty("max_iou").GetDouble(), decisions[i].MaxIoU, 9);
    }

    [Fact]
    public void Camera_crop_box_covers_at_least_a_fifth_of_the_crop()
    {
        foreach (var (w, h) in new[] { (120.0, 80.0), (40.0, 300.0), (500.0, 500.0), (3.0, 2.0) })
        {
            var u = new[] { 700, 700 + w, 700, 700 + w, 700, 700 + w, 700, 700 + w };
            var v = new[] { 300, 300, 300 + h, 300 + h, 300, 300, 300 + h, 300 + h };
            var b = new Box2(700, 300, 700 + w, 300 + h);
            var crop = ObjectCentricCameraCrop.Plan(new ProjectedBox(u, v, Enumerable.Repeat(10.0, 8).ToArray(), b, b), 256);
            // at least 20% unless the square must grow to hold the box's long side (or the 8 px minimum)
            bool sideBound = crop.Crop.Width <= Math.Ceiling(Math.Max(w, h)) || crop.Crop.Width == 8;
            Assert.True(b.Area / crop.Crop.Area >= 0.2 - 0.01 || sideBound, $"{w}x{h}: {b.Area / crop.Crop.Area:0.000}");
            if (!sideBound) Assert.True(b.Area / crop.Crop.Area <= 0.2 + 0.01);
            Assert.True(crop.Crop.Width >= Math.Max(w, h));
        }
    }

    [Fact]
    public void Filters_refuse_each_rule_with_its_reason()
    {
        ProjectedBox At(double x0, double y0, double x1, double y1, double depth = 10)
        {
            var b = new Box2(x0, y0, x1, y1);
            return new ProjectedBox([x0, x1, x1, x0, x0, x1, x1, x0], [y0, y0, y1, y1, y0, y0, y1, y1], Enumerable.Repeat(depth, 8).ToArray(), b, b);
        }
        var candidates = new List<FilterCandidate>
        {
            new("ok", 200, At(0, 0, 150, 150), 0.9),
            new("few-points", 63, At(300, 0, 450, 150), 0.9),
            new("small", 200, At(600, 0, 690, 200), 0.9),
            new("overlap-a", 200, At(800, 0, 1000, 200), 0.9),
            new("overlap-b", 200, At(820, 0, 1020, 200), 0.9),
            new("hidden", 200, At(1200, 0, 1400, 200), 0.5),
            new("behind", 200, At(0, 400, 200, 600, -2), 0.9),
        };
        var d = ObjectFilter.Apply(candidates, 1600).ToDictionary(x => x.Token);
        Assert.True(d["ok"].Keep);
        Assert.Contains("63 lidar points", d["few-points"].Reason);
        Assert.Contains("2D box 90x200", d["small"].Reason);
        Assert.Contains("IoU", d["overlap-a"].Reason);
        Assert.Contains("visibility", d["hidden"].Reason);
        Assert.Contains("front", d["behind"].Reason);
        // at half resolution the same boxes are half as big: 100 px there is 200 px at nuScenes resolution
        Assert.True(ObjectFilter.Apply([new("half", 64, At(0, 0, 50, 50), 0.7)], 800)[0].Keep);
    }

    [Fact]
    public void Box_frame_changes_round_trip_and_contain_their_centre()
    {
        var box = new Box3(new Vector3d(405, 1190, 1.1), 1.9, 4.6, 1.6, Quaternion.FromYaw(0.7));
        var ego = new RigidTransform(new Vector3d(400, 1180, 0), Quaternion.FromYaw(-0.3));
        var back = box.ToChild(ego).ToParent(ego);
        var a = box.Corners(); var b = back.Corners();
        for (int i = 0; i < 8; i++) AssertClose(a[i], b[i], 1e-9);
        Assert.True(box.Contains(box.Center));
        Assert.False(box.Contains(box.Center + new Vector3d(0, 0, 0.81)));
        Assert.Equal(0.7, box.Rotation.Yaw, 12);
    }

    internal static void AssertClose(Vector3d expected, Vector3d actual, double tolerance)
    {
        Assert.True((expected - actual).Length <= tolerance, $"expected {expected}, got {actual}");
    }
}
