namespace Pipeline.Host.Runs.Metrics;

/// <summary>
/// Section Pipeline:Metrics: the feature networks of a run's learned metrics (docs/e2e.md, "Metrics"). Each folder holds
/// a feature-model.json and its ONNX file (docs/metrics.md). Nothing is configured by default: an unconfigured metric is
/// listed as skipped in the report, never computed with a stand-in network the operator did not name.
/// </summary>
public sealed class RunMetricsOptions
{
    public const string SectionName = "Pipeline:Metrics";

    /// <summary>Feature model (kind "features") for FD[name] and KID[name] over the run's patches.</summary>
    public string? Features { get; set; }

    /// <summary>LPIPS backbone (kind "lpips") for LPIPS[name] between the generated and the original patch.</summary>
    public string? Lpips { get; set; }

    /// <summary>Embedding model (kind "embedding") for the similarity of the generated box region to the reference crop.</summary>
    public string? Embedding { get; set; }

    /// <summary>The name the embedding similarity is reported under: "CLIP-I" or "DINOv2" (docs/reference.md, "Metrics").</summary>
    public string EmbeddingMetric { get; set; } = "CLIP-I";

    /// <summary>FD and KID are computed for a set (the run, one class, one task) only with at least this many items.</summary>
    public int MinSetSamples { get; set; } = 10;

    /// <summary>KID subset size (clean-fid / torchmetrics: 1000); shrunk to the set's size when the set is smaller.</summary>
    public int KidSubsetSize { get; set; } = 1000;

    /// <summary>KID subset count (clean-fid / torchmetrics: 100).</summary>
    public int KidSubsetCount { get; set; } = 100;

    internal void Validate()
    {
        if (EmbeddingMetric is not ("CLIP-I" or "DINOv2"))
            throw new InvalidOperationException($"{SectionName}:EmbeddingMetric is '{EmbeddingMetric}'; use CLIP-I or DINOv2");
        if (MinSetSamples < 2) throw new InvalidOperationException($"{SectionName}:MinSetSamples is {MinSetSamples}; FD and KID need at least 2 samples");
        if (KidSubsetSize < 2 || KidSubsetCount < 1)
            throw new InvalidOperationException($"{SectionName}: KidSubsetSize ({KidSubsetSize}) must be >= 2 and KidSubsetCount ({KidSubsetCount}) >= 1");
    }
}
