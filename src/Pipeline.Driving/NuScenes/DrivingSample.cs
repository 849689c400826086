using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using Pipeline.Imaging.Codecs;

namespace Pipeline.Driving.NuScenes;

/// <summary>One annotated object of a sample: its global box, category and what the MObI filters decided.</summary>
public sealed record SampleObject(NuSampleAnnotation Annotation, string Category, Box3 GlobalBox, ProjectedBox Projection, double Visibility, FilterDecision Decision);

/// <summary>
/// One key frame loaded for geometry: the CAM_FRONT image and calibration, the LIDAR_TOP points (sensor frame) and
/// calibration, the ego pose, and every annotation with its projection and MObI filter decision.
/// </summary>
public sealed class DrivingSample
{
    public required NuSample Sample { get; init; }
    public required RigidTransform CameraCalibration { get; init; }
    public required RigidTransform CameraEgoPose { get; init; }
    public required CameraIntrinsics Camera { get; init; }
    public required byte[] CameraRgb { get; init; }
    public required RigidTransform LidarCalibration { get; init; }
    public required RigidTransform LidarEgoPose { get; init; }
    public required float[] LidarPoints { get; init; }
    public required IReadOnlyList<SampleObject> Objects { get; init; }

    /// <summary>Lidar sensor -> global.</summary>
    public RigidTransform LidarToGlobal => RigidTransform.SensorToGlobal(LidarCalibration, LidarEgoPose);

    /// <summary>A global box in the lidar frame.</summary>
    public Box3 InLidar(Box3 globalBox) => globalBox.ToChild(LidarEgoPose).ToChild(LidarCalibration);

    /// <summary>A global box in the camera frame.</summary>
    public Box3 InCamera(Box3 globalBox) => globalBox.ToChild(CameraEgoPose).ToChild(CameraCalibration);

    /// <summary>
    /// Finds a sample by token, by index into the scenes' ordered samples ("3"), or by scene name and index ("scene-0001:2").
    /// </summary>
    public static NuSample? Find(NuScenesDataset db, string key)
    {
        var ordered = db.OrderedSamples();
        if (int.TryParse(key, out int index)) return index >= 0 && index < ordered.Count ? ordered[index] : null;
        var colon = key.LastIndexOf(':');
        if (colon > 0 && int.TryParse(key[(colon + 1)..], out int k))
        {
            var scene = db.Scenes.FirstOrDefault(s => s.Name == key[..colon]);
            var inScene = ordered.Where(s => s.SceneToken == scene?.Token).ToList();
            return k >= 0 && k < inScene.Count ? inScene[k] : null;
        }
        return db.Samples.FirstOrDefault(s => s.Token == key);
    }

    public static Task<DrivingSample> LoadAsync(string folder, NuScenesDataset db, NuSample sample, ObjectFilterOptions? filters = null, CancellationToken cancellationToken = default) =>
        LoadAsync((file, ct) => File.ReadAllBytesAsync(Path.Combine(folder, file), ct), db, sample, filters, cancellationToken);

    /// <summary>Loads a key frame reading its files (paths relative to the dataroot) through <paramref name="read"/>.</summary>
    public static async Task<DrivingSample> LoadAsync(Func<string, CancellationToken, Task<byte[]>> read, NuScenesDataset db, NuSample sample, ObjectFilterOptions? filters = null, CancellationToken cancellationToken = default)
    {
        var cam = db.DataOf(sample.Token, "CAM_FRONT") ?? throw new InvalidDataException($"sample {sample.Token} has no CAM_FRONT key frame");
        var lidar = db.DataOf(sample.Token, "LIDAR_TOP") ?? throw new InvalidDataException($"sample {sample.Token} has no LIDAR_TOP key frame");
        var (camCalib, camEgo) = db.PosesOf(cam);
        var (lidarCalib, lidarEgo) = db.PosesOf(lidar);
        var intrinsics = db.IntrinsicsOf(cam);
        byte[] rgb;
        using (var image = DecodeImage(await read(cam.Filename!, cancellationToken).ConfigureAwait(false), cam.Filename!))
        {
            if (image.Channels != 3) throw new InvalidDataException($"{cam.Filename}: expected an RGB image, got {image.Channels} channels");
            rgb = image.Pixels<byte>().ToArray();
        }
        var points = LidarPointCloud.Decode(await read(lidar.Filename!, cancellationToken).ConfigureAwait(false), lidar.Filename!);
        var categoryOf = db.Instances.ToDictionary(i => i.Token, i => db.Categories.FirstOrDefault(c => c.Token == i.CategoryToken)?.Name ?? "?");
        var anns = db.AnnotationsOf(sample.Token).ToList();
        var boxes = anns.Select(NuScenesDataset.BoxOf).ToList();
        var projections = boxes.Select(b => BoxProjection.Project(b, camEgo, camCalib, intrinsics)).ToList();
        var visibility = anns.Select(a => a.VisibilityFraction ?? NuScenesTables.VisibilityMidpoint(a.VisibilityToken)).ToList();
        var decisions = ObjectFilter.Apply(anns.Select((a, i) => new FilterCandidate(a.Token, a.NumLidarPts, projections[i], visibility[i])).ToList(), intrinsics.Width, filters);
        var objects = anns.Select((a, i) => new SampleObject(a, categoryOf.GetValueOrDefault(a.InstanceToken ?? "", "?"), boxes[i], projections[i], visibility[i], decisions[i])).ToList();
        return new DrivingSample
        {
            Sample = sample, CameraCalibration = camCalib, CameraEgoPose = camEgo, Camera = intrinsics, CameraRgb = rgb,
            LidarCalibration = lidarCalib, LidarEgoPose = lidarEgo, LidarPoints = points, Objects = objects,
        };
    }

    /// <summary>A camera image (JPEG, or PNG as the pipeline's outputs are).</summary>
    public static Pipeline.Imaging.Buffers.ImageBuffer DecodeImage(byte[] bytes, string file) =>
        PngCodec.IsPng(bytes) ? PngCodec.Decode(bytes, file) : JpegCodec.Decode(bytes, file);
}
