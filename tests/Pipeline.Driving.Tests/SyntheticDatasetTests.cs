using System.Text.Json.Nodes;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.Ingestion;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.Synthetic;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Ingestion;
using RV = Pipeline.Driving.RangeView.RangeView;

namespace Pipeline.Driving.Tests;

public class SyntheticDatasetTests(SyntheticDatasetFixture fixture) : IClassFixture<SyntheticDatasetFixture>
{
    [Fact]
    public async Task Same_seed_gives_byte_identical_files_and_another_seed_does_not()
    {
        var again = fixture.Folder + "-again";
        var other = fixture.Folder + "-other";
        try
        {
            await SyntheticDrivingDataset.WriteToFolderAsync(SyntheticDatasetFixture.Options, again);
            await SyntheticDrivingDataset.WriteToFolderAsync(SyntheticDatasetFixture.Options with { Seed = 8 }, other);
            var files = Directory.EnumerateFiles(fixture.Folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(fixture.Folder, f)).Order().ToList();
            Assert.Equal(files, Directory.EnumerateFiles(again, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(again, f)).Order().ToList());
            foreach (var f in files) Assert.True(File.ReadAllBytes(Path.Combine(fixture.Folder, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, f))), $"{f} differs");
            var lidar = files.First(f => f.EndsWith(".pcd.bin", StringComparison.Ordinal));
            Assert.False(File.ReadAllBytes(Path.Combine(fixture.Folder, lidar)).AsSpan().SequenceEqual(
                File.ReadAllBytes(Directory.EnumerateFiles(Path.Combine(other, "samples", "LIDAR_TOP")).Order().First())));
        }
        finally
        {
            foreach (var d in new[] { again, other }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public async Task Generated_scenes_pass_ingestion_with_no_problems()
    {
        var result = await NuScenesIngestion.TryRunAsync(new FolderDatasetSource(fixture.Folder));
        Assert.NotNull(result);
        Assert.Empty(result.Report.Errors);
        Assert.Equal(NuScenesIngestion.Format, result.Report.AnnotationFormat);
        Assert.Equal(6, result.Report.ReferencedImages); // 3 samples x (camera + lidar)
        Assert.Equal(6, result.Report.ValidImages);
        Assert.Equal(Directory.EnumerateFiles(fixture.Folder, "*", SearchOption.AllDirectories).Count(), result.Index.FileCount);
        Assert.True(result.Report.ClassCounts["vehicle.car"] > 0);
        Assert.Equal(fixture.Summary.Annotations, result.Report.Findings);
    }

    [Fact]
    public async Task Tables_follow_the_nuScenes_schema_and_chain_their_tokens()
    {
        var db = await NuScenesDataset.LoadAsync(fixture.Folder);
        Assert.Empty(db.LoadErrors);
        Assert.Single(db.Scenes);
        Assert.Equal(3, db.Scenes[0].NbrSamples);
        var ordered = db.OrderedSamples();
        Assert.Equal(3, ordered.Count);
        Assert.Equal("", ordered[0].Prev);
        Assert.Equal("", ordered[^1].Next);
        Assert.True(ordered.Zip(ordered.Skip(1)).All(p => p.First.Timestamp + 500_000 == p.Second.Timestamp));
        // the raw JSON uses the schema's field names
        var row = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Folder, "v1.0-synthetic", "sample_annotation.json")))!.AsArray()[0]!.AsObject();
        foreach (var field in new[] { "token", "sample_token", "instance_token", "attribute_tokens", "visibility_token", "translation", "size", "rotation", "num_lidar_pts", "num_radar_pts", "prev", "next" })
            Assert.True(row.ContainsKey(field), field);
        var data = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Folder, "v1.0-synthetic", "sample_data.json")))!.AsArray()[0]!.AsObject();
        foreach (var field in new[] { "token", "sample_token", "ego_pose_token", "calibrated_sensor_token", "filename", "fileformat", "width", "height", "timestamp", "is_key_frame", "prev", "next" })
            Assert.True(data.ContainsKey(field), field);
        // tracked objects: some instance is annotated at every key frame, moving between them
        var tracked = db.Instances.First(i => i.NbrAnnotations == 3 && db.SampleAnnotations.First(a => a.Token == i.FirstAnnotationToken).AttributeTokens!
            .Any(t => db.Attributes.First(x => x.Token == t).Name == "vehicle.moving"));
        var first = db.SampleAnnotations.First(a => a.Token == tracked.FirstAnnotationToken);
        var last = db.SampleAnnotations.First(a => a.Token == tracked.LastAnnotationToken);
        Assert.True((Vector3d.From(first.Translation!) - Vector3d.From(last.Translation!)).Length > 1);
    }

    [Fact]
    public async Task Lidar_points_fall_on_the_annotated_boxes_and_num_lidar_pts_matches_the_files()
    {
        var db = await NuScenesDataset.LoadAsync(fixture.Folder);
        int withPoints = 0;
        foreach (var sample in db.Samples)
        {
            var lidar = db.DataOf(sample.Token, "LIDAR_TOP")!;
            var points = LidarPointCloud.Decode(File.ReadAllBytes(Path.Combine(fixture.Folder, lidar.Filename!)), lidar.Filename!);
            Assert.True(points.Length / 5 > 20_000, $"{points.Length / 5} points");
            var (cs, ego) = db.PosesOf(lidar);
            var toGlobal = RigidTransform.SensorToGlobal(cs, ego);
            foreach (var a in db.AnnotationsOf(sample.Token))
            {
                Assert.Equal(a.NumLidarPts, NuScenesDataset.BoxOf(a).CountInside(points, 5, toGlobal));
                if (a.NumLidarPts >= 64) withPoints++;
            }
            // rings are beam indices 0..31 and intensities 0..255
            for (int i = 0; i < points.Length; i += 5)
            {
                Assert.InRange(points[i + 4], 0, 31);
                Assert.InRange(points[i + 3], 0, 255);
            }
        }
        Assert.True(withPoints > 0, "no annotation has 64 lidar points");
    }

    [Fact]
    public async Task A_real_sweep_round_trips_through_the_range_view()
    {
        var db = await NuScenesDataset.LoadAsync(fixture.Folder);
        var lidar = db.DataOf(db.Samples[0].Token, "LIDAR_TOP")!;
        var points = LidarPointCloud.Decode(File.ReadAllBytes(Path.Combine(fixture.Folder, lidar.Filename!)), lidar.Filename!);
        var view = RV.FromPoints(points, 5);
        Assert.True(view.Kept > 0.8 * (view.Points - view.OutOfRange), $"kept {view.Kept} of {view.Points - view.OutOfRange} in range");
        var (back, pixels) = view.ToPoints();
        for (int k = 0; k < pixels.Length; k++)
        {
            int src = view.PointIndex[pixels[k]];
            for (int c = 0; c < 3; c++) Assert.True(Math.Abs(points[5 * src + c] - back[4 * k + c]) <= 1e-4, $"point {src}");
        }
    }

    [Fact]
    public async Task Truncated_point_cloud_is_refused_with_the_file_and_the_rest_indexed()
    {
        var copy = fixture.Copy();
        try
        {
            var file = Directory.EnumerateFiles(Path.Combine(copy, "samples", "LIDAR_TOP")).Order().First();
            var bytes = File.ReadAllBytes(file);
            File.WriteAllBytes(file, bytes[..(bytes.Length - 7)]);
            var result = (await NuScenesIngestion.TryRunAsync(new FolderDatasetSource(copy)))!;
            var error = Assert.Single(result.Report.Errors);
            Assert.Equal(Path.GetRelativePath(copy, file).Replace('\\', '/'), error.Path);
            Assert.Contains("truncated", error.Message);
            Assert.Equal(5, result.Report.ValidImages);
            Assert.Equal(Directory.EnumerateFiles(copy, "*", SearchOption.AllDirectories).Count(), result.Index.FileCount);
        }
        finally { Directory.Delete(copy, true); }
    }

    /// <summary>Changes row <paramref name="row"/> of table <paramref name="table"/> in a dataset copy; returns its token.</summary>
    private static string EditRow(string copy, string table, int row, Action<JsonObject> edit)
    {
        var path = Path.Combine(copy, "v1.0-synthetic", table + ".json");
        var rows = JsonNode.Parse(File.ReadAllText(path))!.AsArray();
        var r = rows[row]!.AsObject();
        edit(r);
        File.WriteAllText(path, rows.ToJsonString());
        return r["token"]!.GetValue<string>();
    }

    [Fact]
    public async Task Unresolved_token_and_non_unit_quaternion_name_the_table_and_the_token()
    {
        var copy = fixture.Copy();
        try
        {
            string badToken = EditRow(copy, "sample_annotation", 0, r => r["instance_token"] = "ffffffffffffffffffffffffffffffff");
            string poseToken = EditRow(copy, "ego_pose", 1, r => r["rotation"] = new JsonArray(1.0, 0.5, 0.0, 0.0));

            var result = (await NuScenesIngestion.TryRunAsync(new FolderDatasetSource(copy)))!;
            Assert.Contains(result.Report.Errors, e => e.Path == "v1.0-synthetic/sample_annotation.json" && e.Message.Contains(badToken) && e.Message.Contains("instance_token 'ffffffffffffffffffffffffffffffff' does not resolve"));
            Assert.Contains(result.Report.Errors, e => e.Path == "v1.0-synthetic/ego_pose.json" && e.Message.Contains(poseToken) && e.Message.Contains("not a unit quaternion"));
            Assert.Contains(result.Index.Problems, p => p.StartsWith("v1.0-synthetic/ego_pose.json: token " + poseToken, StringComparison.Ordinal));
            Assert.Equal(6, result.Report.ValidImages);
        }
        finally { Directory.Delete(copy, true); }
    }

    [Fact]
    public async Task Chains_that_disagree_with_their_counts_or_ends_name_the_row()
    {
        var copy = fixture.Copy();
        try
        {
            int samples = 0;
            string sceneToken = EditRow(copy, "scene", 0, r => { samples = r["nbr_samples"]!.GetValue<int>(); r["nbr_samples"] = samples + 1; });
            string instanceToken = EditRow(copy, "instance", 0, r => r["last_annotation_token"] = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");

            var result = (await NuScenesIngestion.TryRunAsync(new FolderDatasetSource(copy)))!;
            Assert.Contains(result.Report.Errors, e => e.Path == "v1.0-synthetic/scene.json" && e.Message ==
                $"token {sceneToken}: nbr_samples is {samples + 1} but the sample chain from first_sample_token has {samples}");
            Assert.Contains(result.Report.Errors, e => e.Path == "v1.0-synthetic/instance.json" && e.Message ==
                $"token {instanceToken}: last_annotation_token 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee' does not resolve");
            Assert.DoesNotContain(result.Report.Errors, e => e.Path == "v1.0-synthetic/instance.json" && e.Message.Contains("nbr_annotations"));
        }
        finally { Directory.Delete(copy, true); }
    }

    [Fact]
    public async Task Undecodable_image_is_refused_with_the_file_and_the_reason()
    {
        var copy = fixture.Copy();
        try
        {
            var file = Directory.EnumerateFiles(Path.Combine(copy, "samples", "CAM_FRONT")).Order().First();
            var bytes = File.ReadAllBytes(file);
            File.WriteAllBytes(file, bytes[..200]); // a JPEG header, no scan
            var result = (await NuScenesIngestion.TryRunAsync(new FolderDatasetSource(copy)))!;
            var error = Assert.Single(result.Report.Errors);
            Assert.Equal(Path.GetRelativePath(copy, file).Replace('\\', '/'), error.Path);
            Assert.StartsWith("cannot be decoded", error.Message);
            Assert.Equal(5, result.Report.ValidImages);
        }
        finally { Directory.Delete(copy, true); }
    }

    [Fact]
    public async Task Camera_frames_decode_at_the_recorded_size()
    {
        var db = await NuScenesDataset.LoadAsync(fixture.Folder);
        var cam = db.DataOf(db.Samples[0].Token, "CAM_FRONT")!;
        using var img = JpegCodec.Decode(File.ReadAllBytes(Path.Combine(fixture.Folder, cam.Filename!)), cam.Filename!);
        Assert.Equal((192, 108, 3), (img.Width, img.Height, img.Channels));
        var k = db.IntrinsicsOf(cam);
        Assert.Equal(1266.417203046554 * 192 / 1600, k.Fx, 9);
    }

    [Fact]
    public async Task Not_a_nuScenes_dataset_is_left_to_the_imaging_ingestion()
    {
        var dir = Directory.CreateTempSubdirectory("not-nuscenes");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "annotations.csv"), "image,x0\n");
            Assert.Null(await NuScenesIngestion.TryRunAsync(new FolderDatasetSource(dir.FullName)));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task Scene_pictures_are_written_for_a_sample()
    {
        var db = await NuScenesDataset.LoadAsync(fixture.Folder);
        var sample = DrivingSample.Find(db, "scene-0000:1");
        Assert.NotNull(sample);
        Assert.Equal(sample, DrivingSample.Find(db, "1"));
        Assert.Equal(sample, DrivingSample.Find(db, sample.Token));
        var loaded = await DrivingSample.LoadAsync(fixture.Folder, db, sample);
        var dir = Path.Combine(fixture.Folder + "-pictures");
        try
        {
            var files = await Pipeline.Driving.Rendering.SampleRendering.WriteAsync(loaded, dir);
            Assert.Equal(["camera.png", "range-depth.png", "range-intensity.png", "bev.png"], files.Select(Path.GetFileName).ToArray());
            using var camera = PngCodec.Decode(File.ReadAllBytes(files[0]));
            Assert.Equal((192, 108, 3), (camera.Width, camera.Height, camera.Channels));
            using var range = PngCodec.Decode(File.ReadAllBytes(files[1]));
            Assert.Equal((1096, 128), (range.Width, range.Height));
            // boxes are drawn: the camera picture differs from the frame where a box projects
            Assert.False(camera.Pixels<byte>().SequenceEqual(loaded.CameraRgb));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task No_model_range_round_trip_is_lossless_when_D_is_at_least_the_crop_width()
    {
        var rows = await DatasetRangeRoundTrip.MeasureAsync(fixture.Folder, [64, 512], allObjects: true);
        Assert.True(rows[1].Objects > 0 && rows[1].ObjectPixels > 0);
        Assert.True(rows[1].MedianDepthErrorObject < 1e-4, $"{rows[1].MedianDepthErrorObject}");
        Assert.True(rows[1].IntensityMseObject < 1e-6, $"{rows[1].IntensityMseObject}");
        // D = 64 pools wide crops: some loss, and more than at 512
        Assert.True(rows[0].IntensityMseMask > rows[1].IntensityMseMask);
    }
}
