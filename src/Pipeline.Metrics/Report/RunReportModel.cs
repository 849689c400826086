using System.Text.Json.Serialization;

namespace Pipeline.Metrics.Report;

/// <summary>An image for the report (a PNG or JPEG already encoded by the caller), shown as a data URI.</summary>
/// <param name="Label">What it shows: "original crop", "masked context", "reference", "result", "difference".</param>
public sealed record ReportImage(string Label, string MediaType, byte[] Data);

/// <summary>One metric value of one item, with the definition version it was computed under.</summary>
/// <param name="Metric">Reported name ("ssim", "LPIPS[alex]", "CLIP-I[tiny-clip]").</param>
/// <param name="Region">Where it was measured: "patch", "box", "whole", "inside", "outside", ...</param>
/// <param name="Value">Null when it could not be computed (e.g. an empty region).</param>
/// <param name="Method">What was measured: the model's result, the copy&amp;paste baseline or the untouched original at the
/// same box (<see cref="ComparisonMethod"/>).</param>
public sealed record MetricValue(string Metric, string Region, double? Value, string Version, string Method = ComparisonMethod.Model);

/// <summary>One item of a run: the metrics asked for, its thumbnails, or why it failed.</summary>
public sealed record ItemReport
{
    public required string ItemId { get; init; }

    /// <summary>Lesion / object class (e.g. "mass", "calcification", "car").</summary>
    public string? Class { get; init; }

    /// <summary>insertion, replacement or reinsertion.</summary>
    public string? Task { get; init; }

    public bool Succeeded { get; init; } = true;

    /// <summary>Why the item failed (shown in the failed-items list).</summary>
    public string? Error { get; init; }

    public IReadOnlyList<MetricValue> Metrics { get; init; } = [];

    /// <summary>Where the item came from: source image, reference, box, seed, output path.</summary>
    public IReadOnlyDictionary<string, string> Lineage { get; init; } = new Dictionary<string, string>();

    /// <summary>Thumbnails in display order; only the HTML carries their pixels.</summary>
    public IReadOnlyList<ReportImage> Thumbnails { get; init; } = [];
}

/// <summary>A metric over a set of items (FD, KID), over the whole run or one group.</summary>
/// <param name="Scope">"run", "class" or "task".</param>
/// <param name="Group">The class or task name for grouped scopes.</param>
/// <param name="Std">KID's standard deviation over subsets.</param>
/// <param name="Method">Whose patches are set B: the model's results or the copy&amp;paste baseline's (<see cref="ComparisonMethod"/>).</param>
/// <param name="Against">What set A is: <see cref="ComparisonMethod.AgainstOriginal"/> (the same items' original patches) or
/// <see cref="ComparisonMethod.AgainstRealLesions"/> (real lesion patches of the same class from other images).</param>
public sealed record SetMetricValue(string Metric, string Scope, string? Group, double Value, double? Std, string Version,
    int SamplesA, int SamplesB, IReadOnlyList<string> Warnings, string Method = ComparisonMethod.Model, string Against = ComparisonMethod.AgainstOriginal);

/// <summary>A metric the run asked for but did not compute, and why (e.g. no feature model configured).</summary>
public sealed record SkippedMetric(string Metric, string Reason);

/// <summary>
/// Everything the report is built from. The orchestration's Report activity fills it from the run's blobs; tests fill
/// it with synthetic data. <see cref="RunReportBuilder"/> turns it into <see cref="RunReport"/> (aggregates, CIs).
/// </summary>
public sealed record RunReportModel
{
    public required string RunId { get; init; }

    public string? Title { get; init; }

    /// <summary>Final run state as text (Completed, CompletedWithFailures, ...).</summary>
    public string State { get; init; } = "Completed";

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Run settings (model, sampler steps, guidance, seed, dataset) in display order.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Run-level lineage (dataset version, model package hash, code version).</summary>
    public IReadOnlyDictionary<string, string> Lineage { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<MetricDefinition> Definitions { get; init; } = [];

    public IReadOnlyList<ItemReport> Items { get; init; } = [];

    public IReadOnlyList<SetMetricValue> SetMetrics { get; init; } = [];

    public IReadOnlyList<SkippedMetric> Skipped { get; init; } = [];
}
