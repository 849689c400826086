using System.Text.Json.Serialization;

namespace Pipeline.Core.Contracts;

/// <summary>What a task does with the anomaly of a reference crop (AnydoorMed terms; docs/reference.md, "Evaluation sampling").</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<TaskMode>))]
public enum TaskMode
{
    /// <summary>Add a lesion at a new place in an image (healthy tissue).</summary>
    Insertion,
    /// <summary>Replace an existing lesion of the target image by the reference's lesion.</summary>
    Replacement,
    /// <summary>Regenerate an image's own lesion in place (reference = the same lesion), for paired realism checks.</summary>
    Reinsertion,
}

/// <summary>Sampler algorithms (names of Pipeline.Inference.Schedulers).</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<SchedulerKind>))]
public enum SchedulerKind { Ddim, Plms, Dpmpp2m, Euler, Ddpm }

/// <summary>Format of the augmented dataset's images.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<OutputFormat>))]
public enum OutputFormat
{
    /// <summary>The input's own format (DICOM in, DICOM out; PNG in, PNG out).</summary>
    Same,
    Dicom,
    Png,
}

/// <summary>Metrics a run can compute (Pipeline.Metrics).</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<MetricKind>))]
public enum MetricKind { Ssim, Psnr, Fid, Kid, Lpips, EmbeddingSimilarity }

/// <summary>
/// One task of a run: a mode and how many items, either a total <see cref="Count"/> (classes drawn from the dataset's
/// annotations) or per-class <see cref="Targets"/> (class name to number of items, e.g. {"Mass": 50}); exactly one of the two.
/// </summary>
public sealed record AugmentationTask
{
    public required TaskMode Mode { get; init; }
    public int? Count { get; init; }
    public IReadOnlyDictionary<string, int>? Targets { get; init; }

    /// <summary>Items this task asks for.</summary>
    /// <summary>Driving datasets: explicit edits of key frames (docs/driving.md, "Runs").</summary>
    public IReadOnlyList<SceneEdit>? Edits { get; init; }

    [JsonIgnore]
    public long ItemCount => Count ?? Targets?.Values.Sum(v => (long)v) ?? Edits?.Count ?? 0;
}

/// <summary>Sampler settings; a null field means the model package's default (model.json "sampler"/"guidance").</summary>
/// <summary>One explicit edit of a driving key frame: insertion at a 3D box (centre, size w-l-h, rotation w-x-y-z, global
/// frame), replacement or reinsertion of an annotated object; the reference object by annotation token.</summary>
public sealed record SceneEdit
{
    public required string Sample { get; init; }
    public string? Annotation { get; init; }
    public string? Reference { get; init; }
    public string? Class { get; init; }
    public IReadOnlyList<double>? Center { get; init; }
    public IReadOnlyList<double>? Size { get; init; }
    public IReadOnlyList<double>? Rotation { get; init; }
}

public sealed record SamplerSettings
{
    public SchedulerKind? Scheduler { get; init; }
    public int? Steps { get; init; }
    /// <summary>Classifier-free guidance scale (1 = no guidance).</summary>
    public double? Guidance { get; init; }
    /// <summary>DDIM eta (0 = deterministic).</summary>
    public double? Eta { get; init; }
}

/// <summary>How the augmented dataset is written.</summary>
public sealed record OutputOptions
{
    public OutputFormat Format { get; init; } = OutputFormat.Same;
    /// <summary>Remove patient-identifying attributes from written DICOM (PS3.15 Annex E basic profile).</summary>
    public bool Deidentify { get; init; } = true;
    /// <summary>Leave out items flagged by the realism gate instead of writing them with a flag.</summary>
    public bool DropFlagged { get; init; }
}

/// <summary>Optional thresholds below (or above) which a synthetic item is flagged.</summary>
public sealed record RealismGate
{
    public double? MinSsim { get; init; }
    public double? MinPsnr { get; init; }
    public double? MaxLpips { get; init; }
    public double? MinEmbeddingSimilarity { get; init; }
    /// <summary>Highest seam measure of the composited patch (docs/metrics.md, "Seam"): a straight step along the box
    /// border in units of the local tissue contrast; untouched phantom tissue scores about 0.3-0.6, a hard paste 1.5+.</summary>
    public double? MaxSeam { get; init; }
    /// <summary>Highest texture measure of the full-resolution output at the box (docs/metrics.md, "Texture"):
    /// |ln(fine texture inside / in the ring around)|; untouched phantom tissue scores about 0.1-0.3, a smooth square 1+.</summary>
    public double? MaxTexture { get; init; }
}

/// <summary>
/// The queue message "augment-requests" carries (schema: schemas/augmentation-request.schema.json). Versioned by
/// <see cref="SchemaVersion"/>; parse and validate with <see cref="AugmentationRequestValidator"/>, which reports every
/// problem at once.
/// </summary>
public sealed record AugmentationRequest
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    /// <summary>The run id (= orchestration instance id); the trigger assigns one when absent.</summary>
    public string? RunId { get; init; }
    /// <summary>Name of the dataset under datasets/{name}/.</summary>
    public required string Dataset { get; init; }
    public required IReadOnlyList<AugmentationTask> Tasks { get; init; }
    /// <summary>Model package: "models/{name}/{version}" in blob storage, or a local folder path (local host only).</summary>
    public required string Model { get; init; }
    public SamplerSettings? Sampler { get; init; }
    /// <summary>Seed of the run; every item's seed derives from it, so a run is reproducible.</summary>
    public long Seed { get; init; }
    /// <summary>Items per shard of the fan-out.</summary>
    public int ShardSize { get; init; } = 16;
    public OutputOptions? Output { get; init; }
    public IReadOnlyList<MetricKind>? Metrics { get; init; }
    public RealismGate? RealismGate { get; init; }
    /// <summary>Plan only: write plan.json and stop (no inference).</summary>
    public bool DryRun { get; init; }

    /// <summary>Items the whole request asks for.</summary>
    [JsonIgnore]
    public long TotalItems => Tasks.Sum(t => t.ItemCount);

    [JsonIgnore]
    public ModelReference ModelReference => ModelReference.Parse(Model);
}

/// <summary>A parsed model package reference.</summary>
public sealed record ModelReference
{
    public const string BlobPrefix = "models/";

    /// <summary>Package name and version when the reference is a blob prefix models/{name}/{version}; else null.</summary>
    public string? Name { get; init; }
    public string? Version { get; init; }
    /// <summary>Local folder when the reference is not a blob prefix; else null.</summary>
    public string? LocalPath { get; init; }

    public bool IsBlob => Name is not null;

    /// <summary>The blob prefix (no trailing slash) or the local path.</summary>
    public override string ToString() => IsBlob ? $"{BlobPrefix}{Name}/{Version}" : LocalPath!;

    /// <summary>Parses "models/{name}/{version}" (optionally with a trailing slash) or a local path; throws
    /// <see cref="FormatException"/> naming the problem.</summary>
    public static ModelReference Parse(string reference)
    {
        if (!TryParse(reference, out var r, out var error)) throw new FormatException(error);
        return r!;
    }

    public static bool TryParse(string? reference, out ModelReference? result, out string? error)
    {
        result = null; error = null;
        if (string.IsNullOrWhiteSpace(reference)) { error = "model reference is empty"; return false; }
        if (reference.Any(char.IsControl)) { error = "model reference contains a control character"; return false; }
        if (reference.StartsWith(BlobPrefix, StringComparison.Ordinal))
        {
            var parts = reference[BlobPrefix.Length..].TrimEnd('/').Split('/');
            if (parts.Length != 2)
            {
                error = $"model reference '{reference}' must be models/{{name}}/{{version}}";
                return false;
            }
            if (!ResourceNames.IsValidName(parts[0]))
            {
                error = $"model name '{parts[0]}' is not valid (1-64 letters, digits, '.', '_', '-', starting with a letter or digit)";
                return false;
            }
            if (!ResourceNames.IsValidName(parts[1]))
            {
                error = $"model version '{parts[1]}' is not valid (1-64 letters, digits, '.', '_', '-', starting with a letter or digit)";
                return false;
            }
            result = new ModelReference { Name = parts[0], Version = parts[1] };
            return true;
        }
        result = new ModelReference { LocalPath = reference };
        return true;
    }
}
