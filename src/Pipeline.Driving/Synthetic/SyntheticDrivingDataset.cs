using System.Text.Json;
using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Synthetic;

namespace Pipeline.Driving.Synthetic;

/// <summary>
/// Writes synthetic driving scenes in the nuScenes layout (docs/driving.md, "Synthetic scenes"): per scene one
/// <see cref="SyntheticWorld"/>, seen at every key frame by CAM_FRONT (<see cref="CameraRenderer"/>, JPEG) and LIDAR_TOP
/// (<see cref="LidarScanner"/>, .pcd.bin), with every car and pedestrian within range annotated in the global frame,
/// num_lidar_pts counted from the written points and visibility computed from the rendered frame. Deterministic: the
/// same options give byte-identical files.
/// </summary>
public static class SyntheticDrivingDataset
{
    public const string CameraChannel = "CAM_FRONT", LidarChannel = "LIDAR_TOP";
    public const string CarCategory = "vehicle.car", PedestrianCategory = "human.pedestrian.adult";
    private const long BaseTimestamp = 1_533_151_603_547_590; // microseconds, the era of nuScenes' logs
    private const long KeyFrameInterval = 500_000;

    public static async Task<SyntheticDrivingSummary> WriteToFolderAsync(SyntheticDrivingOptions options, string folder, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        ulong seed = options.Seed;
        string Token(string kind, params object[] key) => NuScenesTokens.For(seed, kind, key);
        Directory.CreateDirectory(Path.Combine(folder, options.Version));
        Directory.CreateDirectory(Path.Combine(folder, "samples", CameraChannel));
        Directory.CreateDirectory(Path.Combine(folder, "samples", LidarChannel));
        Directory.CreateDirectory(Path.Combine(folder, "maps"));

        var categories = new List<NuCategory>
        {
            new(Token("category", CarCategory), CarCategory, "Vehicle designed primarily for personal use, e.g. sedans, hatch-backs, wagons, vans, mini-vans, SUVs and jeeps."),
            new(Token("category", PedestrianCategory), PedestrianCategory, "An adult pedestrian moving around the cityscape."),
        };
        var attributeNames = new[] { "vehicle.moving", "vehicle.parked", "pedestrian.moving", "pedestrian.standing" };
        var attributes = attributeNames.Select(n => new NuAttribute(Token("attribute", n), n, n.Replace('.', ' '))).ToList();
        string AttributeToken(string name) => attributes.First(a => a.Name == name).Token;
        var sensors = new List<NuSensor> { new(Token("sensor", CameraChannel), CameraChannel, "camera"), new(Token("sensor", LidarChannel), LidarChannel, "lidar") };

        var rig = SensorRig.NuScenes(options.CameraWidth, options.CameraHeight);
        var calibrated = new List<NuCalibratedSensor>();
        var egoPoses = new List<NuEgoPose>();
        var logs = new List<NuLog>();
        var maps = new List<NuMap>();
        var scenes = new List<NuScene>();
        var samples = new List<NuSample>();
        var sampleData = new List<NuSampleData>();
        var annotations = new List<NuSampleAnnotation>();
        var instances = new List<NuInstance>();
        int lidarPoints = 0, done = 0;
        var byCategory = new SortedDictionary<string, int>(StringComparer.Ordinal);

        for (int s = 0; s < options.Scenes; s++)
        {
            double duration = (options.SamplesPerScene - 1) * 0.5;
            var world = SyntheticWorld.Create(seed, s, duration);
            var sceneRng = PhantomRandom.For(seed, 17, s);
            // the road frame in the global frame: a map position and heading per scene
            var roadToGlobal = new RigidTransform(new Vector3d(Math.Round(sceneRng.Uniform(300, 2000), 3), Math.Round(sceneRng.Uniform(300, 2000), 3), 0),
                Quaternion.FromYaw(sceneRng.Uniform(-Math.PI, Math.PI)));
            string sceneName = $"scene-{s:D4}", logToken = Token("log", s), sceneToken = Token("scene", s);
            logs.Add(new NuLog(logToken, $"n000-synthetic-{seed}-{s:D4}", "n000", "2026-12-02", "synthetic-city"));
            var mapToken = Token("map", s);
            maps.Add(new NuMap(mapToken, [logToken], "semantic_prior", $"maps/{mapToken}.png"));
            await File.WriteAllBytesAsync(Path.Combine(folder, "maps", $"{mapToken}.png"), RoadMap(world, duration), cancellationToken).ConfigureAwait(false);
            var camCalib = new NuCalibratedSensor(Token("calibrated_sensor", s, CameraChannel), sensors[0].Token, rig.CameraFront.Translation.ToArray(), rig.CameraFront.Rotation.ToArray(), rig.CameraIntrinsics.ToMatrix());
            var lidarCalib = new NuCalibratedSensor(Token("calibrated_sensor", s, LidarChannel), sensors[1].Token, rig.LidarTop.Translation.ToArray(), rig.LidarTop.Rotation.ToArray(), []);
            calibrated.Add(camCalib); calibrated.Add(lidarCalib);
            var cameraCalibration = NuScenesDataset.Pose(camCalib.Translation, camCalib.Rotation);
            var lidarCalibration = NuScenesDataset.Pose(lidarCalib.Translation, lidarCalib.Rotation);

            var sceneSamples = new List<NuSample>();
            var camData = new List<NuSampleData>();
            var lidarData = new List<NuSampleData>();
            var perInstance = new Dictionary<int, List<NuSampleAnnotation>>();
            for (int k = 0; k < options.SamplesPerScene; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double t = 0.5 * k;
                long timestamp = BaseTimestamp + s * 100_000_000L + k * KeyFrameInterval;
                string sampleToken = Token("sample", s, k);
                sceneSamples.Add(new NuSample(sampleToken, timestamp, sceneToken, null, null));
                var egoRoad = world.EgoPoseAt(t);
                var egoGlobalExact = egoRoad.Then(roadToGlobal);
                var ego = new NuEgoPose(Token("ego_pose", s, k, CameraChannel), egoGlobalExact.Translation.ToArray(), egoGlobalExact.Rotation.ToArray(), timestamp);
                var egoLidar = ego with { Token = Token("ego_pose", s, k, LidarChannel) };
                egoPoses.Add(ego); egoPoses.Add(egoLidar);
                var egoGlobal = NuScenesDataset.Pose(ego.Translation, ego.Rotation);

                // camera
                var frame = CameraRenderer.Render(world, t, rig.CameraFront.Then(egoRoad), rig.CameraIntrinsics, cancellationToken);
                string camFile = $"samples/{CameraChannel}/n000-synthetic__{CameraChannel}__{timestamp}.jpg";
                using (var image = ImageBuffer.FromSamples<byte>(frame.Width, frame.Height, 3, frame.Rgb))
                    await File.WriteAllBytesAsync(Path.Combine(folder, camFile), JpegCodec.Encode(image, new JpegEncodeOptions { Quality = options.JpegQuality }), cancellationToken).ConfigureAwait(false);
                camData.Add(new NuSampleData(Token("sample_data", s, k, CameraChannel), sampleToken, ego.Token, camCalib.Token, camFile, "jpg",
                    frame.Width, frame.Height, timestamp, true, null, null));

                // lidar
                var points = LidarScanner.Scan(world, t, rig.LidarTop.Then(egoRoad), seed ^ (ulong)(s * 1000 + k) * 0x9E3779B97F4A7C15UL, cancellationToken);
                lidarPoints += points.Length / LidarPointCloud.Stride;
                string lidarFile = $"samples/{LidarChannel}/n000-synthetic__{LidarChannel}__{timestamp}.pcd.bin";
                await File.WriteAllBytesAsync(Path.Combine(folder, lidarFile), LidarPointCloud.Encode(points), cancellationToken).ConfigureAwait(false);
                lidarData.Add(new NuSampleData(Token("sample_data", s, k, LidarChannel), sampleToken, egoLidar.Token, lidarCalib.Token, lidarFile, "pcd",
                    0, 0, timestamp, true, null, null));
                var lidarToGlobal = RigidTransform.SensorToGlobal(lidarCalibration, egoGlobal);

                // annotations
                foreach (var obj in world.Objects)
                {
                    if (obj.Kind == SceneObjectKind.Scenery) continue;
                    var boxRoad = obj.BoxAt(t);
                    var d = boxRoad.Center - egoRoad.Translation;
                    if (Math.Sqrt(d.X * d.X + d.Y * d.Y) > options.AnnotationRange) continue;
                    var exact = boxRoad.ToParent(roadToGlobal);
                    var box = new Box3(new Vector3d(Math.Round(exact.Center.X, 6), Math.Round(exact.Center.Y, 6), Math.Round(exact.Center.Z, 6)),
                        Math.Round(exact.Width, 4), Math.Round(exact.Length, 4), Math.Round(exact.Height, 4), exact.Rotation);
                    int inside = box.CountInside(points, LidarPointCloud.Stride, lidarToGlobal);
                    var projected = BoxProjection.Project(box, egoGlobal, cameraCalibration, rig.CameraIntrinsics);
                    double visibility = projected.InFront ? CameraRenderer.Visibility(obj, frame, t, rig.CameraFront.Then(egoRoad), rig.CameraIntrinsics, projected.Bounds) : 0;
                    bool car = obj.Kind == SceneObjectKind.Car;
                    string attribute = car ? (obj.IsMoving ? "vehicle.moving" : "vehicle.parked") : (obj.IsMoving ? "pedestrian.moving" : "pedestrian.standing");
                    var a = new NuSampleAnnotation(Token("sample_annotation", s, k, obj.Id), sampleToken, Token("instance", s, obj.Id), [AttributeToken(attribute)],
                        NuScenesTables.VisibilityToken(visibility), box.Center.ToArray(), [box.Width, box.Length, box.Height], box.Rotation.ToArray(),
                        inside, 0, null, null, Math.Round(visibility, 4));
                    if (!perInstance.TryGetValue(obj.Id, out var list)) perInstance[obj.Id] = list = [];
                    list.Add(a);
                    var category = car ? CarCategory : PedestrianCategory;
                    byCategory[category] = byCategory.GetValueOrDefault(category) + 1;
                }
                progress?.Report(++done);
            }
            samples.AddRange(Link(sceneSamples, (x, p, n) => x with { Prev = p, Next = n }, x => x.Token));
            sampleData.AddRange(Link(camData, (x, p, n) => x with { Prev = p, Next = n }, x => x.Token));
            sampleData.AddRange(Link(lidarData, (x, p, n) => x with { Prev = p, Next = n }, x => x.Token));
            foreach (var (id, list) in perInstance.OrderBy(kv => kv.Key))
            {
                var linked = Link(list, (x, p, n) => x with { Prev = p, Next = n }, x => x.Token);
                annotations.AddRange(linked);
                var kind = world.Objects.First(o => o.Id == id).Kind;
                instances.Add(new NuInstance(Token("instance", s, id), categories[kind == SceneObjectKind.Car ? 0 : 1].Token, linked.Count, linked[0].Token, linked[^1].Token));
            }
            scenes.Add(new NuScene(sceneToken, sceneName, $"synthetic street, seed {seed}, ego at {world.EgoSpeed:0.0} m/s", logToken, sceneSamples.Count, sceneSamples[0].Token, sceneSamples[^1].Token));
        }

        async Task Write<T>(string table, IReadOnlyList<T> rows) =>
            await File.WriteAllBytesAsync(Path.Combine(folder, options.Version, table + ".json"), JsonSerializer.SerializeToUtf8Bytes(rows, NuScenesTables.Json), cancellationToken).ConfigureAwait(false);
        await Write(NuScenesTables.Attribute, attributes).ConfigureAwait(false);
        await Write(NuScenesTables.CalibratedSensor, calibrated).ConfigureAwait(false);
        await Write(NuScenesTables.Category, categories).ConfigureAwait(false);
        await Write(NuScenesTables.EgoPose, egoPoses).ConfigureAwait(false);
        await Write(NuScenesTables.Instance, instances).ConfigureAwait(false);
        await Write(NuScenesTables.Log, logs).ConfigureAwait(false);
        await Write(NuScenesTables.Map, maps).ConfigureAwait(false);
        await Write(NuScenesTables.Sample, samples).ConfigureAwait(false);
        await Write(NuScenesTables.SampleAnnotation, annotations).ConfigureAwait(false);
        await Write(NuScenesTables.SampleData, sampleData).ConfigureAwait(false);
        await Write(NuScenesTables.Scene, scenes).ConfigureAwait(false);
        await Write(NuScenesTables.Sensor, sensors).ConfigureAwait(false);
        await Write(NuScenesTables.Visibility, NuScenesTables.VisibilityLevels).ConfigureAwait(false);
        return new SyntheticDrivingSummary(options.Version, scenes.Count, samples.Count, annotations.Count, instances.Count, lidarPoints, byCategory);
    }

    /// <summary>Sets prev/next tokens along a chain ("" at the ends, as nuScenes).</summary>
    private static List<T> Link<T>(IReadOnlyList<T> chain, Func<T, string, string, T> with, Func<T, string> token) =>
        chain.Select((x, i) => with(x, i > 0 ? token(chain[i - 1]) : "", i + 1 < chain.Count ? token(chain[i + 1]) : "")).ToList();

    /// <summary>A bird's-eye semantic mask of the road frame (0.5 m per pixel; 255 road, 128 sidewalk, 0 elsewhere).</summary>
    private static byte[] RoadMap(SyntheticWorld world, double duration)
    {
        const double res = 0.5;
        double x0 = -80, x1 = world.EgoSpeed * duration + 100, y0 = -30, y1 = 30;
        int w = (int)((x1 - x0) / res), h = (int)((y1 - y0) / res);
        var px = new byte[w * h];
        for (int r = 0; r < h; r++)
        {
            double y = y1 - (r + 0.5) * res, ay = Math.Abs(y);
            byte v = ay <= SyntheticWorld.RoadHalfWidth ? (byte)255 : ay <= SyntheticWorld.SidewalkOuter ? (byte)128 : (byte)0;
            px.AsSpan(r * w, w).Fill(v);
        }
        using var image = ImageBuffer.FromSamples<byte>(w, h, 1, px);
        return PngCodec.Encode(image);
    }
}
