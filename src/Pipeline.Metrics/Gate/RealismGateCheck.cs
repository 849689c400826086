using System.Globalization;
using Pipeline.Core.Contracts;

namespace Pipeline.Metrics.Gate;

/// <summary>The request's realism gate: which thresholds an item's metrics miss, as readable flags.</summary>
public static class RealismGateCheck
{
    public static IReadOnlyList<string> Evaluate(RealismGate? gate, IReadOnlyDictionary<string, double> m)
    {
        if (gate is null) return [];
        var flags = new List<string>();
        // SSIM and PSNR gates apply outside the box: the model must not change the tissue around the lesion.
        if (gate.MinSsim is { } s && m.TryGetValue("ssim.outside", out var ssim) && ssim < s)
            flags.Add(string.Create(CultureInfo.InvariantCulture, $"ssim.outside {ssim:0.####} < minSsim {s}"));
        if (gate.MinPsnr is { } p && m.TryGetValue("psnr.outside", out var psnr) && psnr < p)
            flags.Add(string.Create(CultureInfo.InvariantCulture, $"psnr.outside {psnr:0.##} < minPsnr {p}"));
        // seam: the composited patch's step along the box border (docs/metrics.md "Seam"; the baselines' seam keys carry a prefix).
        if (gate.MaxSeam is { } ms && m.TryGetValue("seam", out var seam) && seam > ms)
            flags.Add(string.Create(CultureInfo.InvariantCulture, $"seam {seam:0.###} > maxSeam {ms}"));
        // texture: the full-resolution output's fine texture in the box against the ring around it (docs/metrics.md "Texture").
        if (gate.MaxTexture is { } mt && m.TryGetValue("texture", out var texture) && texture > mt)
            flags.Add(string.Create(CultureInfo.InvariantCulture, $"texture {texture:0.###} > maxTexture {mt}"));
        // LPIPS[name] and CLIP-I[name] / DINOv2[name] keys (the learned metrics); absent when not computed, which the report's
        // skipped list states (an unmeasured item is not flagged).
        if (gate.MaxLpips is { } l)
            foreach (var (key, lp) in m.Where(p => MetricKeys.IsLpips(p.Key) && p.Value > l))
                flags.Add(string.Create(CultureInfo.InvariantCulture, $"{key} {lp:0.####} > maxLpips {l}"));
        // minEmbeddingSimilarity is a cosine in [-1, 1] (schemas/augmentation-request.schema.json); the metric is reported x100.
        if (gate.MinEmbeddingSimilarity is { } e)
            foreach (var (key, em) in m.Where(p => MetricKeys.IsEmbedding(p.Key) && p.Value / 100 < e))
                flags.Add(string.Create(CultureInfo.InvariantCulture, $"{key} {em:0.##} (cosine {em / 100:0.####}) < minEmbeddingSimilarity {e}"));
        return flags;
    }
}
