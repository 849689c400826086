using Pipeline.Core.Contracts;
using Pipeline.Metrics.Report;

namespace Pipeline.Host.Runs.Metrics;

/// <summary>Which learned metrics a run computes: the request's metrics list (null = whatever is configured) against the configuration.</summary>
/// <param name="Skipped">Every learned metric not computed, with the reason (not configured / not requested / not supported).</param>
public sealed record RunMetricSelection(bool Lpips, bool Embedding, bool Fd, bool Kid, IReadOnlyList<SkippedMetric> Skipped)
{
    public bool SetFeatures => Fd || Kid;

    /// <summary>Pure: decides from the requested kinds and which networks are configured.</summary>
    public static RunMetricSelection Resolve(IReadOnlyList<MetricKind>? requested, bool hasFeatures, bool hasLpips, bool hasEmbedding, string embeddingMetric = "CLIP-I")
    {
        var skipped = new List<SkippedMetric>();
        bool Decide(MetricKind kind, bool configured, string metric, string key, string kindName)
        {
            bool asked = requested is null ? configured : requested.Contains(kind);
            if (asked && configured) return true;
            if (asked)
                skipped.Add(new(metric, $"not configured: the request asks for it but {RunMetricsOptions.SectionName}:{key} names no {kindName} model (docs/e2e.md); no other network is substituted"));
            else if (configured)
                skipped.Add(new(metric, $"not requested: {RunMetricsOptions.SectionName}:{key} is configured but the request's metrics list leaves it out"));
            else
                skipped.Add(new(metric, $"not configured: {RunMetricsOptions.SectionName}:{key} names no {kindName} model"));
            return false;
        }
        bool fd = Decide(MetricKind.Fid, hasFeatures, "FD", "Features", "feature (Inception-like)");
        bool kid = Decide(MetricKind.Kid, hasFeatures, "KID", "Features", "feature (Inception-like)");
        bool lpips = Decide(MetricKind.Lpips, hasLpips, "LPIPS", "Lpips", "LPIPS backbone");
        bool embedding = Decide(MetricKind.EmbeddingSimilarity, hasEmbedding, embeddingMetric, "Embedding", "embedding (CLIP / DINOv2)");
        return new RunMetricSelection(lpips, embedding, fd, kid, skipped);
    }

    public static RunMetricSelection Resolve(IReadOnlyList<MetricKind>? requested, RunFeatureNetworks networks) =>
        Resolve(requested, networks.HasFeatures, networks.HasLpips, networks.HasEmbedding, networks.Options.EmbeddingMetric);
}
