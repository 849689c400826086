using System.Text.Json.Serialization;

namespace Pipeline.Core.Contracts;

/// <summary>An axis-aligned box in pixel coordinates, half-open [X0, X1) x [Y0, Y1), x right, y down
/// (docs/preprocessing.md; VinDr xmin, ymin, xmax, ymax). Fractional coordinates are allowed.</summary>
public sealed record BoundingBox(double X0, double Y0, double X1, double Y1)
{
    [JsonIgnore] public double Width => X1 - X0;
    [JsonIgnore] public double Height => Y1 - Y0;
    [JsonIgnore] public bool IsEmpty => !(X1 > X0 && Y1 > Y0);
}

/// <summary>
/// One synthetic sample to make: paste the lesion at <see cref="ReferenceBox"/> of <see cref="ReferenceImage"/> into
/// <see cref="TargetImage"/> at <see cref="TargetBox"/>. Image references are blob paths ("datasets/{name}/...").
/// Chosen deterministically from the run's seed by the Plan activity.
/// </summary>
public sealed record WorkItem
{
    /// <summary>Unique within the run, stable across replays (e.g. "t0-000042"); names the item's output blobs.</summary>
    public required string ItemId { get; init; }
    /// <summary>Index of the request task the item belongs to.</summary>
    public int TaskIndex { get; init; }
    public required TaskMode Mode { get; init; }
    public required string TargetImage { get; init; }
    public required string ReferenceImage { get; init; }
    public required BoundingBox ReferenceBox { get; init; }
    /// <summary>Where the lesion goes; for replacement and reinsertion, the existing lesion's box.</summary>
    public required BoundingBox TargetBox { get; init; }
    /// <summary>Annotation class of the reference lesion (e.g. "Mass").</summary>
    public required string ClassName { get; init; }
    /// <summary>The item's own seed (derived from the run seed and the item id), so items reproduce independently.</summary>
    public required long Seed { get; init; }
    /// <summary>Fields a domain needs beyond the ones above (driving: the key frame, the 3D boxes, the reference
    /// annotation; docs/driving.md, "Runs"). Absent for mammography.</summary>
    public IReadOnlyDictionary<string, string>? Details { get; init; }
    /// <summary>The target image's other annotated findings (replacement items): a tissue donor never takes its tissue
    /// from them, so no annotated lesion is copied into the box (docs/preprocessing.md, "The donor window"). Absent when
    /// the target has no other finding, and in plans written before it existed.</summary>
    public IReadOnlyList<BoundingBox>? OtherFindings { get; init; }
}

/// <summary>A shard of the fan-out: its items live in their own blob (runs/{id}/plan/shard-NNNNN.json) so orchestration
/// payloads stay small.</summary>
public sealed record ShardRef(int Index, int ItemCount, string Blob);

/// <summary>The items of one shard (the document a <see cref="ShardRef"/> points to).</summary>
public sealed record PlanShard
{
    public required string RunId { get; init; }
    public required int Index { get; init; }
    public required IReadOnlyList<WorkItem> Items { get; init; }
}

/// <summary>The document at runs/{runId}/plan.json: the request as resolved, and the shards of work.</summary>
public sealed record RunPlan
{
    public int SchemaVersion { get; init; } = 1;
    public required string RunId { get; init; }
    public required AugmentationRequest Request { get; init; }
    /// <summary>The domain that planned the run and prepares, composes and measures its items (e.g. "mammography";
    /// docs/architecture.md, "The domain seam"). Absent in plans written before domains had names: mammography.</summary>
    public string? Domain { get; init; }
    /// <summary>The model package as resolved (models/{name}/{version} or a local path) and its model.json SHA-256.</summary>
    public required string Model { get; init; }
    public string? ModelSha256 { get; init; }
    /// <summary>SHA-256 of the dataset's _index.json the plan was made from (a re-ingested dataset gives a new plan).</summary>
    public string? DatasetIndexSha256 { get; init; }
    public required int ItemCount { get; init; }
    public required IReadOnlyList<ShardRef> Shards { get; init; }
    /// <summary>Requested items that could not be planned (e.g. a class with too few annotated lesions), with why.</summary>
    public IReadOnlyList<string> Shortfalls { get; init; } = [];
}

/// <summary>How an item ended.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<ItemOutcome>))]
public enum ItemOutcome
{
    Succeeded,
    /// <summary>Made, but below a realism gate threshold (kept with a flag unless output.dropFlagged).</summary>
    Flagged,
    /// <summary>Flagged and left out of the output (output.dropFlagged).</summary>
    Dropped,
    Failed,
}

/// <summary>The result of one item (runs/{id}/items/{itemId}.json), small enough to pass between activities.</summary>
public sealed record ItemResult
{
    public required string ItemId { get; init; }
    public required ItemOutcome Outcome { get; init; }
    /// <summary>Blob path of the written image (runs/{id}/out/...), absent when dropped or failed.</summary>
    public string? Output { get; init; }
    public string? OutputSha256 { get; init; }
    /// <summary>Blob path of the item's <see cref="Lineage"/> document.</summary>
    public string? Lineage { get; init; }
    /// <summary>Per-item metric values by name (e.g. "ssim": 0.91).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    /// <summary>Why the item was flagged (e.g. "lpips 0.41 > maxLpips 0.35").</summary>
    public IReadOnlyList<string> Flags { get; init; } = [];
    /// <summary>Why the item failed.</summary>
    public string? Error { get; init; }
}

/// <summary>A model as used by a run: its package reference and the SHA-256 of its model.json.</summary>
public sealed record ModelIdentity(string Id, string Sha256);

/// <summary>
/// Provenance of one synthetic sample (runs/{id}/out/{itemId}.lineage.json): everything needed to make it again
/// bit for bit, and nothing that differs between two runs of the same request (no timestamps, hosts or durations).
/// </summary>
public sealed record Lineage
{
    public int SchemaVersion { get; init; } = 1;
    public required string RunId { get; init; }
    public required string ItemId { get; init; }
    public required TaskMode Mode { get; init; }
    /// <summary>The image the lesion was pasted into, and its SHA-256.</summary>
    public required string SourceImage { get; init; }
    public string? SourceImageSha256 { get; init; }
    public required string ReferenceImage { get; init; }
    public string? ReferenceImageSha256 { get; init; }
    public required BoundingBox ReferenceBox { get; init; }
    public required BoundingBox TargetBox { get; init; }
    public required string ClassName { get; init; }
    public required ModelIdentity Model { get; init; }
    public required long Seed { get; init; }
    /// <summary>The sampler settings actually used (request values with the model's defaults filled in).</summary>
    public required SamplerSettings Sampler { get; init; }
    public string? Output { get; init; }
    public string? OutputSha256 { get; init; }
    /// <summary>How the output is encoded (e.g. "JPEG baseline, quality 95, YCbCr 4:4:4 (lossy, like its JPEG source)").</summary>
    public string? OutputEncoding { get; init; }
}
