using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pipeline.Core.Contracts;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Report;

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

    /// <summary>The name the embedding similarity is reported under: "CLIP-I" or "DINOv2" (thesis ref_score.py).</summary>
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

/// <summary>
/// The configured feature networks, opened once per process on first use and shared by every Measure activity
/// (ONNX Runtime sessions may run concurrently). A folder that does not hold a valid model fails the item that asked
/// for it with the reason, so a misconfiguration is visible in the report rather than silently skipped.
/// </summary>
public sealed class RunFeatureNetworks(RunMetricsOptions options) : IDisposable
{
    private readonly Lazy<FeatureNetwork>? _features = Open(options.Features, FeatureModelKind.Features, "Features");
    private readonly Lazy<FeatureNetwork>? _lpips = Open(options.Lpips, FeatureModelKind.Lpips, "Lpips");
    private readonly Lazy<FeatureNetwork>? _embedding = Open(options.Embedding, FeatureModelKind.Embedding, "Embedding");

    public RunMetricsOptions Options { get; } = options;

    public FeatureNetwork? Features => _features?.Value;
    public FeatureNetwork? Lpips => _lpips?.Value;
    public FeatureNetwork? Embedding => _embedding?.Value;

    public bool HasFeatures => _features is not null;
    public bool HasLpips => _lpips is not null;
    public bool HasEmbedding => _embedding is not null;

    private static Lazy<FeatureNetwork>? Open(string? folder, FeatureModelKind kind, string key) =>
        string.IsNullOrWhiteSpace(folder) ? null : new Lazy<FeatureNetwork>(() =>
        {
            FeatureNetwork network;
            try
            {
                network = FeatureNetwork.Open(folder);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"{RunMetricsOptions.SectionName}:{key} = '{folder}': {e.Message}", e);
            }
            if (network.Descriptor.Kind != kind)
            {
                network.Dispose();
                throw new InvalidOperationException($"{RunMetricsOptions.SectionName}:{key} = '{folder}' is a feature model of kind {network.Descriptor.Kind}; it must be kind {kind.ToString().ToLowerInvariant()}");
            }
            return network;
        }, LazyThreadSafetyMode.ExecutionAndPublication);

    public void Dispose()
    {
        foreach (var l in new[] { _features, _lpips, _embedding })
            if (l is { IsValueCreated: true }) l.Value.Dispose();
    }
}

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
        if (requested?.Contains(MetricKind.MsSsim) == true)
            skipped.Add(new("ms-ssim", "not computed by the run's Measure stage (ssim on the patch, inside and outside the box is reported instead)"));
        return new RunMetricSelection(lpips, embedding, fd, kid, skipped);
    }

    public static RunMetricSelection Resolve(IReadOnlyList<MetricKind>? requested, RunFeatureNetworks networks) =>
        Resolve(requested, networks.HasFeatures, networks.HasLpips, networks.HasEmbedding, networks.Options.EmbeddingMetric);
}

/// <summary>Registration of <see cref="RunMetricsOptions"/> and <see cref="RunFeatureNetworks"/>.</summary>
public static class RunMetricsServiceCollectionExtensions
{
    public static IServiceCollection AddRunMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new RunMetricsOptions();
        configuration.GetSection(RunMetricsOptions.SectionName).Bind(options);
        options.Validate();
        services.TryAddSingleton(options);
        services.TryAddSingleton<RunFeatureNetworks>();
        return services;
    }
}
