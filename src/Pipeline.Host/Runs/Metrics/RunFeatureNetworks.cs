using Microsoft.Extensions.Options;
using Pipeline.Metrics.Features;

namespace Pipeline.Host.Runs.Metrics;

/// <summary>
/// The configured feature networks, opened once per process on first use and shared by every Measure activity
/// (ONNX Runtime sessions may run concurrently). A folder that does not hold a valid model fails the item that asked
/// for it with the reason, so a misconfiguration is visible in the report rather than silently skipped.
/// </summary>
public sealed class RunFeatureNetworks(IOptions<RunMetricsOptions> options) : IDisposable
{
    private readonly Lazy<FeatureNetwork>? _features = Open(options.Value.Features, FeatureModelKind.Features, "Features");
    private readonly Lazy<FeatureNetwork>? _lpips = Open(options.Value.Lpips, FeatureModelKind.Lpips, "Lpips");
    private readonly Lazy<FeatureNetwork>? _embedding = Open(options.Value.Embedding, FeatureModelKind.Embedding, "Embedding");

    public RunMetricsOptions Options { get; } = options.Value;

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
