using System.Text.Json;
using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using Pipeline.Imaging.Ingestion;

namespace Pipeline.Driving.NuScenes;

/// <summary>
/// A nuScenes-format dataset's tables (the version folder, e.g. <c>v1.0-mini/</c>, beside <c>samples/</c> and
/// <c>maps/</c>), read from a folder or any <see cref="IDatasetSource"/>, with token lookups. Reading does not
/// validate references (<see cref="NuScenesValidator"/> does): a table that cannot be parsed is reported in
/// <see cref="LoadErrors"/> and read as empty.
/// </summary>
public sealed class NuScenesDataset
{
    public required string Version { get; init; }
    public IReadOnlyList<NuAttribute> Attributes { get; init; } = [];
    public IReadOnlyList<NuCalibratedSensor> CalibratedSensors { get; init; } = [];
    public IReadOnlyList<NuCategory> Categories { get; init; } = [];
    public IReadOnlyList<NuEgoPose> EgoPoses { get; init; } = [];
    public IReadOnlyList<NuInstance> Instances { get; init; } = [];
    public IReadOnlyList<NuLog> Logs { get; init; } = [];
    public IReadOnlyList<NuMap> Maps { get; init; } = [];
    public IReadOnlyList<NuSample> Samples { get; init; } = [];
    public IReadOnlyList<NuSampleAnnotation> SampleAnnotations { get; init; } = [];
    public IReadOnlyList<NuSampleData> SampleData { get; init; } = [];
    public IReadOnlyList<NuScene> Scenes { get; init; } = [];
    public IReadOnlyList<NuSensor> Sensors { get; init; } = [];
    public IReadOnlyList<NuVisibility> Visibility { get; init; } = [];

    /// <summary>Tables that were missing or did not parse: (file, problem).</summary>
    public IReadOnlyList<(string File, string Problem)> LoadErrors { get; init; } = [];

    /// <summary>The version folder among a dataset's paths: the folder holding scene.json and sample.json, or null.</summary>
    public static string? FindVersion(IEnumerable<string> paths)
    {
        var set = paths.ToHashSet(StringComparer.Ordinal);
        return set.Where(p => p.EndsWith("/scene.json", StringComparison.Ordinal) && p.Count(c => c == '/') == 1)
            .Select(p => p[..p.IndexOf('/')])
            .Where(v => set.Contains($"{v}/sample.json"))
            .Order(StringComparer.Ordinal).FirstOrDefault();
    }

    public static async Task<NuScenesDataset> LoadAsync(string folder, CancellationToken cancellationToken = default)
    {
        var source = new FolderDatasetSource(folder);
        var paths = new List<string>();
        await foreach (var f in source.ListAsync(cancellationToken).ConfigureAwait(false)) if (f.Path.EndsWith(".json", StringComparison.Ordinal)) paths.Add(f.Path);
        var version = FindVersion(paths) ?? throw new InvalidDataException($"'{folder}' is not a nuScenes-format dataset: no <version>/scene.json and sample.json");
        return await LoadAsync(source, version, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<NuScenesDataset> LoadAsync(IDatasetSource source, string version, CancellationToken cancellationToken = default)
    {
        var errors = new List<(string, string)>();
        async Task<List<T>> Read<T>(string table)
        {
            var path = $"{version}/{table}.json";
            try
            {
                await using var s = await source.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
                var rows = await JsonSerializer.DeserializeAsync<List<T?>>(s, NuScenesTables.Json, cancellationToken).ConfigureAwait(false);
                if (rows is null) { errors.Add((path, "the table is null, expected a JSON array")); return []; }
                var kept = rows.Where(r => r is not null).Select(r => r!).ToList();
                if (kept.Count != rows.Count) errors.Add((path, $"{rows.Count - kept.Count} null rows"));
                return kept;
            }
            catch (FileNotFoundException) { errors.Add((path, "table missing")); }
            catch (JsonException ex) { errors.Add((path, $"not a valid {table} table: {ex.Message}")); }
            return [];
        }
        var dataset = new NuScenesDataset
        {
            Version = version,
            Attributes = await Read<NuAttribute>(NuScenesTables.Attribute).ConfigureAwait(false),
            CalibratedSensors = await Read<NuCalibratedSensor>(NuScenesTables.CalibratedSensor).ConfigureAwait(false),
            Categories = await Read<NuCategory>(NuScenesTables.Category).ConfigureAwait(false),
            EgoPoses = await Read<NuEgoPose>(NuScenesTables.EgoPose).ConfigureAwait(false),
            Instances = await Read<NuInstance>(NuScenesTables.Instance).ConfigureAwait(false),
            Logs = await Read<NuLog>(NuScenesTables.Log).ConfigureAwait(false),
            Maps = await Read<NuMap>(NuScenesTables.Map).ConfigureAwait(false),
            Samples = await Read<NuSample>(NuScenesTables.Sample).ConfigureAwait(false),
            SampleAnnotations = await Read<NuSampleAnnotation>(NuScenesTables.SampleAnnotation).ConfigureAwait(false),
            SampleData = await Read<NuSampleData>(NuScenesTables.SampleData).ConfigureAwait(false),
            Scenes = await Read<NuScene>(NuScenesTables.Scene).ConfigureAwait(false),
            Sensors = await Read<NuSensor>(NuScenesTables.Sensor).ConfigureAwait(false),
            Visibility = await Read<NuVisibility>(NuScenesTables.Visibility).ConfigureAwait(false),
            LoadErrors = errors,
        };
        return dataset;
    }

    private Dictionary<string, NuSampleData>? _sampleData;
    private Dictionary<string, NuEgoPose>? _egoPoses;
    private Dictionary<string, NuCalibratedSensor>? _calibrated;
    private Dictionary<string, NuSensor>? _sensors;
    private ILookup<string?, NuSampleAnnotation>? _annotationsBySample;
    private ILookup<string?, NuSampleData>? _dataBySample;

    public NuSampleData? SampleDataByToken(string token) => (_sampleData ??= SampleData.GroupBy(s => s.Token).ToDictionary(g => g.Key, g => g.First())).GetValueOrDefault(token);
    public NuEgoPose? EgoPoseByToken(string? token) => token is null ? null : (_egoPoses ??= EgoPoses.GroupBy(s => s.Token).ToDictionary(g => g.Key, g => g.First())).GetValueOrDefault(token);
    public NuCalibratedSensor? CalibratedSensorByToken(string? token) => token is null ? null : (_calibrated ??= CalibratedSensors.GroupBy(s => s.Token).ToDictionary(g => g.Key, g => g.First())).GetValueOrDefault(token);
    public NuSensor? SensorByToken(string? token) => token is null ? null : (_sensors ??= Sensors.GroupBy(s => s.Token).ToDictionary(g => g.Key, g => g.First())).GetValueOrDefault(token);
    public IEnumerable<NuSampleAnnotation> AnnotationsOf(string sampleToken) => (_annotationsBySample ??= SampleAnnotations.ToLookup(a => a.SampleToken))[sampleToken];

    /// <summary>The key-frame sample_data of a sample for one channel (CAM_FRONT, LIDAR_TOP, ...), or null.</summary>
    public NuSampleData? DataOf(string sampleToken, string channel) =>
        (_dataBySample ??= SampleData.ToLookup(d => d.SampleToken))[sampleToken]
            .FirstOrDefault(d => d.IsKeyFrame && SensorByToken(CalibratedSensorByToken(d.CalibratedSensorToken)?.SensorToken)?.Channel == channel);

    public static RigidTransform Pose(double[]? translation, double[]? rotation) =>
        new(Vector3d.From(translation ?? throw new InvalidDataException("pose without a translation")),
            Quaternion.From(rotation ?? throw new InvalidDataException("pose without a rotation")));

    /// <summary>The global box of an annotation.</summary>
    public static Box3 BoxOf(NuSampleAnnotation a)
    {
        var size = a.Size ?? throw new InvalidDataException($"sample_annotation {a.Token} has no size");
        if (size.Length != 3) throw new InvalidDataException($"sample_annotation {a.Token}: size must be [width, length, height]");
        return new Box3(Vector3d.From(a.Translation ?? throw new InvalidDataException($"sample_annotation {a.Token} has no translation")),
            size[0], size[1], size[2], Quaternion.From(a.Rotation ?? throw new InvalidDataException($"sample_annotation {a.Token} has no rotation")));
    }

    /// <summary>The sensor's pose in the ego frame and the ego's pose in the global frame for one sample_data.</summary>
    public (RigidTransform Calibration, RigidTransform EgoPose) PosesOf(NuSampleData data)
    {
        var cs = CalibratedSensorByToken(data.CalibratedSensorToken) ?? throw new InvalidDataException($"sample_data {data.Token}: calibrated_sensor {data.CalibratedSensorToken} not found");
        var ego = EgoPoseByToken(data.EgoPoseToken) ?? throw new InvalidDataException($"sample_data {data.Token}: ego_pose {data.EgoPoseToken} not found");
        return (Pose(cs.Translation, cs.Rotation), Pose(ego.Translation, ego.Rotation));
    }

    /// <summary>The camera's intrinsics for one camera sample_data.</summary>
    public CameraIntrinsics IntrinsicsOf(NuSampleData data)
    {
        var cs = CalibratedSensorByToken(data.CalibratedSensorToken) ?? throw new InvalidDataException($"sample_data {data.Token}: calibrated_sensor not found");
        return CameraIntrinsics.FromMatrix(cs.CameraIntrinsic ?? throw new InvalidDataException($"calibrated_sensor {cs.Token} has no camera_intrinsic"), data.Width, data.Height);
    }

    /// <summary>Samples of every scene in order (following next links from each scene's first sample).</summary>
    public IReadOnlyList<NuSample> OrderedSamples()
    {
        var byToken = Samples.GroupBy(s => s.Token).ToDictionary(g => g.Key, g => g.First());
        var result = new List<NuSample>();
        foreach (var scene in Scenes)
        {
            var token = scene.FirstSampleToken;
            var seen = new HashSet<string>();
            while (!string.IsNullOrEmpty(token) && byToken.TryGetValue(token, out var s) && seen.Add(token)) { result.Add(s); token = s.Next; }
        }
        return result;
    }
}
