using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Driving.NuScenes;

// The nuScenes v1.0 tables (nuscenes-devkit docs/schema_nuscenes.md), one record per table row. Field names are the
// schema's (snake_case in JSON). Reference fields are nullable so a partial table can be read and reported.
// Empty prev/next are "".

public sealed record NuAttribute(string Token, string? Name, string? Description);

public sealed record NuCalibratedSensor(string Token, string? SensorToken, double[]? Translation, double[]? Rotation, double[][]? CameraIntrinsic);

public sealed record NuCategory(string Token, string? Name, string? Description);

public sealed record NuEgoPose(string Token, double[]? Translation, double[]? Rotation, long Timestamp);

public sealed record NuInstance(string Token, string? CategoryToken, int NbrAnnotations, string? FirstAnnotationToken, string? LastAnnotationToken);

public sealed record NuLog(string Token, string? Logfile, string? Vehicle, string? DateCaptured, string? Location);

public sealed record NuMap(string Token, string[]? LogTokens, string? Category, string? Filename);

public sealed record NuSample(string Token, long Timestamp, string? SceneToken, string? Prev, string? Next);

/// <param name="VisibilityFraction">Not in the nuScenes schema: the synthetic generator's unbinned visibility (0-1).</param>
public sealed record NuSampleAnnotation(
    string Token, string? SampleToken, string? InstanceToken, string[]? AttributeTokens, string? VisibilityToken,
    double[]? Translation, double[]? Size, double[]? Rotation, int NumLidarPts, int NumRadarPts, string? Prev, string? Next,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? VisibilityFraction = null);

public sealed record NuSampleData(
    string Token, string? SampleToken, string? EgoPoseToken, string? CalibratedSensorToken, string? Filename, string? Fileformat,
    int Width, int Height, long Timestamp, bool IsKeyFrame, string? Prev, string? Next);

public sealed record NuScene(string Token, string? Name, string? Description, string? LogToken, int NbrSamples, string? FirstSampleToken, string? LastSampleToken);

public sealed record NuSensor(string Token, string? Channel, string? Modality);

public sealed record NuVisibility(string Token, string? Level, string? Description);

/// <summary>The table files of a nuScenes version folder and the JSON conventions they are written with.</summary>
public static class NuScenesTables
{
    public const string Attribute = "attribute", CalibratedSensor = "calibrated_sensor", Category = "category", EgoPose = "ego_pose",
        Instance = "instance", Log = "log", Map = "map", Sample = "sample", SampleAnnotation = "sample_annotation",
        SampleData = "sample_data", Scene = "scene", Sensor = "sensor", Visibility = "visibility";

    /// <summary>Every table the devkit loads (lidarseg and panoptic are optional and not written).</summary>
    public static readonly string[] All =
        [Attribute, CalibratedSensor, Category, EgoPose, Instance, Log, Map, Sample, SampleAnnotation, SampleData, Scene, Sensor, Visibility];

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>nuScenes visibility bins (token = level index): fraction of the annotation visible.</summary>
    public static readonly NuVisibility[] VisibilityLevels =
    [
        new("1", "v0-40", "visibility of whole object is between 0 and 40%"),
        new("2", "v40-60", "visibility of whole object is between 40 and 60%"),
        new("3", "v60-80", "visibility of whole object is between 60 and 80%"),
        new("4", "v80-100", "visibility of whole object is between 80 and 100%"),
    ];

    /// <summary>The visibility token of a fraction in [0, 1].</summary>
    public static string VisibilityToken(double fraction) => fraction < 0.4 ? "1" : fraction < 0.6 ? "2" : fraction < 0.8 ? "3" : "4";

    /// <summary>The midpoint of a visibility bin, what the object filter reads when no fraction is stored.</summary>
    public static double VisibilityMidpoint(string? token) => token switch { "1" => 0.2, "2" => 0.5, "3" => 0.7, "4" => 0.9, _ => 0 };
}
