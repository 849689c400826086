namespace Pipeline.Metrics.Gate;

/// <summary>The reported names of the learned per-item metrics, e.g. "LPIPS[tiny-lpips]", "CLIP-I[clip]", "DINOv2[dino]".</summary>
public static class MetricKeys
{
    /// <summary>Prefix of the LPIPS values (the key is the reported name).</summary>
    public const string LpipsPrefix = "LPIPS[";

    /// <summary>Prefixes of the embedding-similarity values.</summary>
    public static readonly IReadOnlyList<string> EmbeddingPrefixes = ["CLIP-I[", "DINOv2["];

    public static bool IsLpips(string key) => key.StartsWith(LpipsPrefix, StringComparison.Ordinal) && key.EndsWith(']');

    public static bool IsEmbedding(string key) => EmbeddingPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)) && key.EndsWith(']');
}
