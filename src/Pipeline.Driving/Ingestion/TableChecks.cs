using Pipeline.Driving.Camera;
using Pipeline.Driving.Geometry;
using Pipeline.Driving.NuScenes;
using Pipeline.Imaging.Ingestion;

namespace Pipeline.Driving.Ingestion;

/// <summary>
/// The reference and value checks of a nuScenes dataset's tables. Each problem is reported against the table's file
/// as "token T: what is wrong".
/// </summary>
internal sealed class TableChecks(NuScenesDataset db, string version, IReadOnlySet<string> paths, List<DatasetFileError> errors)
{
    private void Error(string table, string token, string message) => errors.Add(new DatasetFileError($"{version}/{table}.json", $"token {token}: {message}"));

    private static HashSet<string> Tokens<T>(IEnumerable<T> rows, Func<T, string> token) => rows.Select(token).ToHashSet(StringComparer.Ordinal);

    public void Run()
    {
        var attributes = Tokens(db.Attributes, r => r.Token);
        var categories = Tokens(db.Categories, r => r.Token);
        var visibility = Tokens(db.Visibility, r => r.Token);
        var sensors = db.Sensors.GroupBy(r => r.Token).ToDictionary(g => g.Key, g => g.First());
        var calibrated = Tokens(db.CalibratedSensors, r => r.Token);
        var egoPoses = Tokens(db.EgoPoses, r => r.Token);
        var logs = Tokens(db.Logs, r => r.Token);
        var scenes = Tokens(db.Scenes, r => r.Token);
        var samples = Tokens(db.Samples, r => r.Token);
        var sampleData = Tokens(db.SampleData, r => r.Token);
        var annotations = Tokens(db.SampleAnnotations, r => r.Token);
        var instances = Tokens(db.Instances, r => r.Token);

        Unique(NuScenesTables.Attribute, db.Attributes.Select(r => r.Token));
        Unique(NuScenesTables.CalibratedSensor, db.CalibratedSensors.Select(r => r.Token));
        Unique(NuScenesTables.Category, db.Categories.Select(r => r.Token));
        Unique(NuScenesTables.EgoPose, db.EgoPoses.Select(r => r.Token));
        Unique(NuScenesTables.Instance, db.Instances.Select(r => r.Token));
        Unique(NuScenesTables.Log, db.Logs.Select(r => r.Token));
        Unique(NuScenesTables.Map, db.Maps.Select(r => r.Token));
        Unique(NuScenesTables.Sample, db.Samples.Select(r => r.Token));
        Unique(NuScenesTables.SampleAnnotation, db.SampleAnnotations.Select(r => r.Token));
        Unique(NuScenesTables.SampleData, db.SampleData.Select(r => r.Token));
        Unique(NuScenesTables.Scene, db.Scenes.Select(r => r.Token));
        Unique(NuScenesTables.Sensor, db.Sensors.Select(r => r.Token));
        Unique(NuScenesTables.Visibility, db.Visibility.Select(r => r.Token));

        foreach (var s in db.Sensors)
        {
            if (string.IsNullOrEmpty(s.Channel)) Error(NuScenesTables.Sensor, s.Token, "no channel");
            if (s.Modality is not ("camera" or "lidar" or "radar")) Error(NuScenesTables.Sensor, s.Token, $"modality '{s.Modality}' is not camera, lidar or radar");
        }
        foreach (var c in db.CalibratedSensors)
        {
            const string t = NuScenesTables.CalibratedSensor;
            if (c.SensorToken is null || !sensors.TryGetValue(c.SensorToken, out var sensor)) { Error(t, c.Token, $"sensor_token '{c.SensorToken}' does not resolve"); sensor = null; }
            Pose(t, c.Token, c.Translation, c.Rotation);
            if (sensor?.Modality == "camera")
            {
                if (c.CameraIntrinsic is null) Error(t, c.Token, "a camera calibration needs camera_intrinsic (3x3)");
                else
                    try { CameraIntrinsics.FromMatrix(c.CameraIntrinsic, 1, 1); }
                    catch (ArgumentException ex) { Error(t, c.Token, ex.Message); }
            }
            else if (sensor is not null && c.CameraIntrinsic is { Length: > 0 }) Error(t, c.Token, $"a {sensor.Modality} calibration must have an empty camera_intrinsic");
        }
        foreach (var e in db.EgoPoses)
        {
            Pose(NuScenesTables.EgoPose, e.Token, e.Translation, e.Rotation);
            if (e.Timestamp <= 0) Error(NuScenesTables.EgoPose, e.Token, $"timestamp {e.Timestamp} is not positive");
        }
        foreach (var m in db.Maps)
        {
            foreach (var l in m.LogTokens ?? []) if (!logs.Contains(l)) Error(NuScenesTables.Map, m.Token, $"log token '{l}' does not resolve");
            if (m.Filename is null || !paths.Contains(m.Filename)) Error(NuScenesTables.Map, m.Token, $"map file '{m.Filename}' is not in the dataset");
        }
        var samplesByToken = db.Samples.GroupBy(s => s.Token).ToDictionary(g => g.Key, g => g.First());
        foreach (var s in db.Scenes)
        {
            const string t = NuScenesTables.Scene;
            Ref(t, s.Token, "log_token", s.LogToken, logs);
            Chain(t, s.Token, "sample", s.FirstSampleToken, s.LastSampleToken, s.NbrSamples, samplesByToken, sample => sample.Next);
        }
        foreach (var s in db.Samples)
        {
            Ref(NuScenesTables.Sample, s.Token, "scene_token", s.SceneToken, scenes);
            Link(NuScenesTables.Sample, s.Token, s.Prev, s.Next, samples);
        }
        foreach (var d in db.SampleData)
        {
            const string t = NuScenesTables.SampleData;
            Ref(t, d.Token, "sample_token", d.SampleToken, samples);
            Ref(t, d.Token, "ego_pose_token", d.EgoPoseToken, egoPoses);
            Ref(t, d.Token, "calibrated_sensor_token", d.CalibratedSensorToken, calibrated);
            Link(t, d.Token, d.Prev, d.Next, sampleData);
            if (d.Filename is null || !paths.Contains(d.Filename)) Error(t, d.Token, $"file '{d.Filename}' is not in the dataset");
            if (d.Fileformat is "jpg" or "png" && (d.Width <= 0 || d.Height <= 0)) Error(t, d.Token, $"image size {d.Width}x{d.Height} is not positive");
        }
        foreach (var a in db.SampleAnnotations)
        {
            const string t = NuScenesTables.SampleAnnotation;
            Ref(t, a.Token, "sample_token", a.SampleToken, samples);
            Ref(t, a.Token, "instance_token", a.InstanceToken, instances);
            Ref(t, a.Token, "visibility_token", a.VisibilityToken, visibility);
            foreach (var at in a.AttributeTokens ?? []) Ref(t, a.Token, "attribute token", at, attributes);
            Link(t, a.Token, a.Prev, a.Next, annotations);
            if (a.Size is not { Length: 3 }) Error(t, a.Token, "size must be [width, length, height]");
            else if (a.Size.Any(v => !(v > 0) || !double.IsFinite(v))) Error(t, a.Token, $"size [{string.Join(", ", a.Size)}] must be positive");
            Pose(t, a.Token, a.Translation, a.Rotation);
            if (a.NumLidarPts < 0 || a.NumRadarPts < 0) Error(t, a.Token, "num_lidar_pts and num_radar_pts must not be negative");
        }
        var annotationsByToken = db.SampleAnnotations.GroupBy(a => a.Token).ToDictionary(g => g.Key, g => g.First());
        foreach (var i in db.Instances)
        {
            const string t = NuScenesTables.Instance;
            Ref(t, i.Token, "category_token", i.CategoryToken, categories);
            Chain(t, i.Token, "annotation", i.FirstAnnotationToken, i.LastAnnotationToken, i.NbrAnnotations, annotationsByToken, a => a.Next);
        }
    }

    /// <summary>A row that heads a chain of <paramref name="what"/> rows (a scene's samples, an instance's annotations):
    /// first_/last_{what}_token resolve, and nbr_{what}s is the number of rows on the chain from the first following next
    /// (it ends at "", a token that does not resolve, or a token seen before).</summary>
    private void Chain<T>(string table, string token, string what, string? first, string? last, int count, Dictionary<string, T> byToken, Func<T, string?> next)
    {
        if (string.IsNullOrEmpty(first) || !byToken.ContainsKey(first)) Error(table, token, $"first_{what}_token '{first}' does not resolve");
        if (string.IsNullOrEmpty(last) || !byToken.ContainsKey(last)) Error(table, token, $"last_{what}_token '{last}' does not resolve");
        int n = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var t = first; !string.IsNullOrEmpty(t) && byToken.TryGetValue(t, out var row) && seen.Add(t); t = next(row)) n++;
        if (n != count) Error(table, token, $"nbr_{what}s is {count} but the {what} chain from first_{what}_token has {n}");
    }

    private void Unique(string table, IEnumerable<string> tokens)
    {
        foreach (var g in tokens.GroupBy(x => x, StringComparer.Ordinal).Where(g => g.Count() > 1)) Error(table, g.Key, $"appears {g.Count()} times");
    }

    private void Ref(string table, string token, string field, string? value, HashSet<string> targets)
    {
        if (string.IsNullOrEmpty(value) || !targets.Contains(value)) Error(table, token, $"{field} '{value}' does not resolve");
    }

    private void Link(string table, string token, string? prev, string? next, HashSet<string> targets)
    {
        if (prev is null || next is null) { Error(table, token, "prev and next must be present (\"\" at the ends of a chain)"); return; }
        if (prev.Length > 0 && !targets.Contains(prev)) Error(table, token, $"prev '{prev}' does not resolve");
        if (next.Length > 0 && !targets.Contains(next)) Error(table, token, $"next '{next}' does not resolve");
    }

    private void Pose(string table, string token, double[]? translation, double[]? rotation)
    {
        if (translation is not { Length: 3 } || translation.Any(v => !double.IsFinite(v))) Error(table, token, "translation must be 3 finite numbers");
        if (rotation is not { Length: 4 } || rotation.Any(v => !double.IsFinite(v))) Error(table, token, "rotation must be a quaternion [w, x, y, z]");
        else
        {
            var q = Quaternion.From(rotation);
            if (!q.IsUnit(1e-4)) Error(table, token, $"rotation [{string.Join(", ", rotation)}] is not a unit quaternion (|q| = {q.Norm:0.######})");
        }
    }
}
