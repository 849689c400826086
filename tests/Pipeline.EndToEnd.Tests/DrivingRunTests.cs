using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Driving.Camera;
using Pipeline.Driving.Compositing;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.Ingestion;
using Pipeline.Driving.NuScenes;
using Pipeline.Driving.Runs;
using Pipeline.Driving.Synthetic;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Ingestion;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Pipeline.Tests.Shared;

namespace Pipeline.EndToEnd.Tests;

/// <summary>One Azurite and a small synthetic driving dataset ("drive"): 2 scenes x 3 key frames at 480 x 270, the last
/// key frame's LIDAR_TOP row removed (a sample without a lidar sweep).</summary>
public sealed class DrivingRunFixture : AzuriteFixture
{
    public const string Dataset = "drive";
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"e2e-drive-{Guid.NewGuid():N}");
    public NuScenesDataset Tables { get; private set; } = null!;
    public string NoLidarSample { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SyntheticDrivingDataset.WriteToFolderAsync(new SyntheticDrivingOptions { Scenes = 2, SamplesPerScene = 3, Seed = 11, CameraWidth = 480, CameraHeight = 270 }, Folder);
        var db = await NuScenesDataset.LoadAsync(Folder);
        NoLidarSample = db.OrderedSamples()[^1].Token;
        var path = Path.Combine(Folder, db.Version, "sample_data.json");
        var rows = JsonNode.Parse(File.ReadAllText(path))!.AsArray();
        var lidar = rows.First(r => r!["sample_token"]!.GetValue<string>() == NoLidarSample && r["filename"]!.GetValue<string>().Contains("LIDAR_TOP"))!;
        var prev = lidar["prev"]!.GetValue<string>();
        foreach (var r in rows) if (r!["next"]!.GetValue<string>() == lidar["token"]!.GetValue<string>()) r["next"] = "";
        rows.Remove(lidar);
        File.Delete(Path.Combine(Folder, lidar["filename"]!.GetValue<string>()));
        File.WriteAllText(path, rows.ToJsonString());
        Tables = await NuScenesDataset.LoadAsync(Folder);
        await RunFixture.UploadAsync(Server.ConnectionString, Folder, Dataset);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Driving runs end to end on Azurite through the same AugmentationRun orchestration (docs/driving.md, "Runs"): every
/// planned item ends as an output or a failure with its reason; camera pixels beyond the blending margin and lidar points
/// outside the box are the source's; num_lidar_pts matches the composited sweep; the output dataset passes ingestion;
/// the same request gives byte-identical outputs.
/// </summary>
public sealed class DrivingRunTests(DrivingRunFixture fixture) : IClassFixture<DrivingRunFixture>
{
    private static readonly IReadOnlyDictionary<string, string?> FastSettings = new Dictionary<string, string?>
    {
        ["Pipeline:Triggers:DatasetDrop:PollInterval"] = "00:00:01",
        ["Pipeline:Engine:ClientPollInterval"] = "00:00:00.200",
        ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
        // LPIPS with the random-weight test backbone: checks the names and directions of the driving metrics
        ["Pipeline:Metrics:Lpips"] = Path.Combine(RunFixture.RepoRoot, "training", "feature_models", "tiny-lpips"),
    };

    internal static string Model => Path.Combine(RunFixture.RepoRoot, "models", "driving-tiny");

    /// <summary>A box in front of (or behind) CAM_FRONT of a sample: the camera-frame point (0, 1, z) as a car box, global frame.</summary>
    private static Box3 BoxAtCameraDepth(DrivingRunFixture fixture, string sample, double z)
    {
        var db = fixture.Tables;
        var (calib, ego) = db.PosesOf(db.DataOf(sample, "CAM_FRONT")!);
        var toGlobal = RigidTransform.SensorToGlobal(calib, ego);
        var centre = toGlobal.ToParent(new Vector3d(0, 0.6, z));
        return new Box3(centre, 1.9, 4.4, 1.6, ego.Rotation);
    }

    /// <summary>The request of the driving runs: 2 reinsertions, 1 replacement, 1 insertion from the empty-box pool, and
    /// four bad edits (a box behind the camera, a box outside the lidar range, a replacement reference of another class,
    /// a key frame without a lidar sweep); DDIM 3 steps, shards of 3 items.</summary>
    internal static async Task<AugmentationRequest> Request(DrivingRunFixture fixture, string runId)
    {
        var db = fixture.Tables;
        string Category(NuSampleAnnotation a) => db.Categories.First(c => c.Token == db.Instances.First(i => i.Token == a.InstanceToken).CategoryToken).Name!;
        // a key frame with a car passing MObI's filters (so a replacement of it fails only for its reference's class)
        string sample = "";
        NuSampleAnnotation car = null!;
        foreach (var s in db.OrderedSamples().Where(s => s.Token != fixture.NoLidarSample))
        {
            var frame = await DrivingSample.LoadAsync(fixture.Folder, db, s);
            var kept = frame.Objects.FirstOrDefault(o => o.Decision.Keep && o.Category == "vehicle.car");
            if (kept is null) continue;
            (sample, car) = (s.Token, kept.Annotation);
            break;
        }
        Assert.NotNull(car);
        var pedestrian = db.SampleAnnotations.First(a => Category(a).StartsWith("human.pedestrian", StringComparison.Ordinal));
        SceneEdit Insert(Box3 b) => new()
        {
            Sample = sample, Class = "car", Reference = car.Token, Center = b.Center.ToArray(), Size = [b.Width, b.Length, b.Height], Rotation = b.Rotation.ToArray(),
        };
        return new AugmentationRequest
        {
            RunId = runId, Dataset = DrivingRunFixture.Dataset, Model = Model, Seed = 5, ShardSize = 3,
            Tasks =
            [
                new AugmentationTask { Mode = TaskMode.Reinsertion, Count = 2 },
                new AugmentationTask { Mode = TaskMode.Replacement, Count = 1 },
                new AugmentationTask { Mode = TaskMode.Insertion, Count = 1 },
                new AugmentationTask { Mode = TaskMode.Insertion, Edits = [Insert(BoxAtCameraDepth(fixture, sample, -8)), Insert(BoxAtCameraDepth(fixture, sample, 80))] },
                new AugmentationTask { Mode = TaskMode.Replacement, Edits = [new SceneEdit { Sample = sample, Annotation = car.Token, Reference = pedestrian.Token }] },
                new AugmentationTask { Mode = TaskMode.Reinsertion, Edits = [new SceneEdit { Sample = fixture.NoLidarSample, Annotation = db.AnnotationsOf(fixture.NoLidarSample).First().Token }] },
            ],
            Sampler = new SamplerSettings { Scheduler = SchedulerKind.Ddim, Steps = 3, Guidance = 2.0 },
        };
    }

    private async Task<IReadOnlyList<ItemResult>> RunAsync(AugmentationRequest request)
    {
        await using var host = await LocalPipelineHost.StartAsync(fixture.ConnectionString, FastSettings);
        await host.SubmitAsync(request);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        while (await host.Orchestrations.GetInstanceAsync(request.RunId!, cts.Token) is null) await Task.Delay(200, cts.Token);
        var final = await host.Orchestrations.WaitForCompletionAsync(request.RunId!, cts.Token);
        Assert.True(final.State is RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");
        return await RunResults.ReadItemsAsync(fixture.Storage.Run(request.RunId!), CancellationToken.None);
    }

    [Fact]
    public async Task A_driving_run_composites_camera_and_lidar_writes_a_valid_dataset_and_fails_bad_edits_with_their_reasons()
    {
        var request = await Request(fixture, "e2e-drive-a");
        var results = await RunAsync(request);
        var storage = fixture.Storage;
        var run = storage.Run(request.RunId!);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan, CancellationToken.None))!.Value;
        Assert.Equal(DrivingDomain.DomainName, plan.Domain);
        var planned = new List<WorkItem>();
        foreach (var s in plan.Shards) planned.AddRange((await run.ReadJsonAsync<PlanShard>(s.Blob, CancellationToken.None))!.Value.Items);
        Assert.Equal(planned.Count, results.Count);
        Assert.Equal(8, planned.Count);

        // bad input: failed with the reason, the run went on
        string ErrorOf(int task) => results.Single(r => r.ItemId.StartsWith($"t{task}-", StringComparison.Ordinal) && r.ItemId.EndsWith("000000", StringComparison.Ordinal)).Error ?? "";
        void Fails(string expected, string error) => Assert.True(error.Contains(expected, StringComparison.Ordinal), $"expected '{expected}' in: {error}");
        Fails("behind the camera", ErrorOf(3));
        Fails("outside the lidar range", results.Single(r => r.ItemId == "t3-000001").Error ?? "");
        Fails("needs a reference of the same class", ErrorOf(4));
        Fails("no LIDAR_TOP", ErrorOf(5));
        var ok = results.Where(r => r.Outcome is ItemOutcome.Succeeded or ItemOutcome.Flagged).ToList();
        Assert.Equal(4, ok.Count);
        Assert.All(results.Where(r => r.Outcome == ItemOutcome.Failed), r => Assert.False(string.IsNullOrWhiteSpace(r.Error)));

        // metrics: LPIPS on the camera patch, D-LPIPS / I-LPIPS on the range patches, for the model and copy&paste, under
        // the network's name; the report gives each its direction (lower is better), the per-channel MAEs too
        foreach (var r in ok)
            foreach (var name in new[] { "LPIPS[tiny-lpips]", "D-LPIPS[tiny-lpips]", "I-LPIPS[tiny-lpips]", "camera/mae.inside", "depth/mae.inside", "intensity/mae.inside" })
                foreach (var key in new[] { name, "copy&paste/" + name })
                    Assert.True(r.Metrics.TryGetValue(key, out var v) && double.IsFinite(v) && v >= 0, $"{r.ItemId}: {key} missing or invalid");
        var report = Pipeline.Metrics.Report.RunReport.FromJson((await run.ReadAsync(RunBlobs.ReportJson))!.ToString());
        foreach (var name in new[] { "LPIPS[tiny-lpips]", "D-LPIPS[tiny-lpips]", "I-LPIPS[tiny-lpips]", "camera/mae", "depth/mae", "intensity/mae" })
            Assert.False(Assert.Single(report.Definitions, d => d.Name == name).HigherIsBetter);
        Assert.StartsWith("mae/1", Assert.Single(report.Definitions, d => d.Name == "depth/mae").Version, StringComparison.Ordinal);
        // the full-resolution camera detail (the composer measures it): the model's output only, higher is better
        foreach (var r in ok)
            Assert.True(r.Metrics.TryGetValue(CameraDetail.Key, out var v) && double.IsFinite(v), $"{r.ItemId}: {CameraDetail.Key} missing or invalid");
        var detail = Assert.Single(report.Definitions, d => d.Name == CameraDetail.Key);
        Assert.True(detail.HigherIsBetter);
        Assert.StartsWith("detail/1", detail.Version, StringComparison.Ordinal);
        Assert.StartsWith("lpips/1", Assert.Single(report.Definitions, d => d.Name == "D-LPIPS[tiny-lpips]").Version, StringComparison.Ordinal);

        var db = fixture.Tables;
        foreach (var r in ok)
        {
            var item = planned.Single(i => i.ItemId == r.ItemId);
            var edit = DrivingEdit.Of(item);
            var frame = await DrivingSample.LoadAsync(fixture.Folder, db, db.Samples.First(s => s.Token == edit.Sample));
            // camera: pixels beyond the hull's bounds + margin are the source's
            using var output = PngCodec.Decode((await storage.ReadAsync(BlobPath.Parse(r.Output!)))!.ToMemory().ToArray(), r.Output!);
            var rgb = output.Pixels<byte>().ToArray();
            var p = BoxProjection.Project(edit.Box, frame.CameraEgoPose, frame.CameraCalibration, frame.Camera);
            int m = CameraComposite.Margin(CameraComposite.DefaultSigma) + 1, w = frame.Camera.Width;
            int changedInside = 0;
            for (int y = 0; y < frame.Camera.Height; y++)
                for (int x = 0; x < w; x++)
                {
                    bool near = x >= p.U.Min() - m && x <= p.U.Max() + m && y >= p.V.Min() - m && y <= p.V.Max() + m;
                    for (int c = 0; c < 3; c++)
                    {
                        int k = (y * w + x) * 3 + c;
                        if (!near) Assert.Equal(frame.CameraRgb[k], rgb[k]);
                        else if (frame.CameraRgb[k] != rgb[k]) changedInside++;
                    }
                }
            Assert.True(changedInside > 0, $"{r.ItemId}: nothing changed in the box");
            // lidar: the source's points outside the box, bit for bit and in order, then the edited points
            var sweepBlob = r.Output![..^".png".Length] + ".pcd.bin";
            var sweep = LidarPointCloud.Decode((await storage.ReadAsync(BlobPath.Parse(sweepBlob)))!.ToMemory().Span, sweepBlob);
            var box = frame.InLidar(edit.Box);
            var src = frame.LidarPoints;
            int kept = 0, droppedOutside = 0;
            for (int i = 0; i < src.Length; i += 5)
            {
                bool inside = box.Contains(new Vector3d(src[i], src[i + 1], src[i + 2]));
                if (kept * 5 < sweep.Length && Enumerable.Range(0, 5).All(j => BitConverter.SingleToInt32Bits(src[i + j]) == BitConverter.SingleToInt32Bits(sweep[kept * 5 + j])))
                {
                    Assert.False(inside, $"{r.ItemId}: a source point inside the box was kept");
                    kept++;
                }
                else if (!inside) droppedOutside++;
            }
            int addedInside = 0;
            for (int i = kept * 5; i < sweep.Length; i += 5) if (box.Contains(new Vector3d(sweep[i], sweep[i + 1], sweep[i + 2]))) addedInside++;
            // a source point outside the box is only replaced where the edited point of its pixel is inside the box
            Assert.True(droppedOutside <= addedInside, $"{r.ItemId}: {droppedOutside} points outside the box dropped, {addedInside} edited points inside it");
        }

        // the output dataset: self-contained nuScenes layout under out/, passes ingestion, num_lidar_pts matches
        var outDir = Path.Combine(Path.GetTempPath(), $"e2e-drive-out-{Guid.NewGuid():N}");
        try
        {
            await foreach (var blob in storage.ListAsync("runs", $"{request.RunId}/out/", CancellationToken.None))
            {
                var rel = blob.Path.Name[$"{request.RunId}/out/".Length..];
                var file = Path.Combine(outDir, rel);
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                await File.WriteAllBytesAsync(file, (await storage.ReadAsync(blob.Path))!.ToMemory().ToArray());
            }
            var ingestion = await NuScenesIngestion.TryRunAsync(new FolderDatasetSource(outDir));
            Assert.NotNull(ingestion);
            Assert.Empty(ingestion!.Index.Problems);
            var outDb = await NuScenesDataset.LoadAsync(outDir);
            Assert.Equal(ok.Count, outDb.Samples.Count);
            var lineage = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, outDb.Version, DrivingOutputDataset.LineageTable + ".json")))!.AsArray();
            Assert.Equal(ok.Count, lineage.Count);
            foreach (var a in outDb.SampleAnnotations)
            {
                var lidar = outDb.DataOf(a.SampleToken!, "LIDAR_TOP")!;
                var pts = LidarPointCloud.Decode(File.ReadAllBytes(Path.Combine(outDir, lidar.Filename!)), lidar.Filename!);
                var (calib, ego) = outDb.PosesOf(lidar);
                Assert.Equal(NuScenesDataset.BoxOf(a).CountInside(pts, 5, RigidTransform.SensorToGlobal(calib, ego)), a.NumLidarPts);
            }
        }
        finally { try { Directory.Delete(outDir, true); } catch (IOException) { } }

        // the same request (another run id) gives byte-identical images and sweeps
        var again = await RunAsync(await Request(fixture, "e2e-drive-b"));
        foreach (var r in ok)
        {
            var other = again.Single(x => x.ItemId == r.ItemId);
            Assert.Equal(r.OutputSha256, other.OutputSha256);
            var a = (await storage.ReadAsync(BlobPath.Parse(r.Output![..^4] + ".pcd.bin")))!.ToMemory().ToArray();
            var b = (await storage.ReadAsync(BlobPath.Parse(other.Output![..^4] + ".pcd.bin")))!.ToMemory().ToArray();
            Assert.Equal(a, b);
        }
    }

}
