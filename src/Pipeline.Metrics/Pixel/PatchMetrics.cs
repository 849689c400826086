namespace Pipeline.Metrics.Pixel;

/// <summary>
/// Per-item pixel metrics between an original and a generated square patch in display space (data range 1): SSIM,
/// PSNR and MAE on the whole patch, and inside / outside the object's mask. Keys: "ssim", "ssim.inside",
/// "ssim.outside", "psnr", "psnr.inside", "psnr.outside", "mae", "mae.inside" (an infinite PSNR is left out).
/// </summary>
public static class PatchMetrics
{
    /// <summary>The SSIM settings of the per-item metrics (their version is reported with every value).</summary>
    public static readonly SsimOptions Ssim = new(1.0);

    /// <param name="original">Original patch, display space [0, 1], resolution x resolution.</param>
    /// <param name="generated">Generated patch, same shape.</param>
    /// <param name="mask">The object's region (> 0.5 inside), same shape.</param>
    /// <param name="resolution">The patch side.</param>
    public static IReadOnlyDictionary<string, double> Compute(float[] original, float[] generated, float[] mask, int resolution)
    {
        var m = new byte[mask.Length];
        for (int i = 0; i < m.Length; i++) m[i] = mask[i] > 0.5f ? (byte)1 : (byte)0;
        var shape = new PlaneShape(resolution, resolution);
        var ssim = StructuralSimilarity.Compute(original, generated, shape, Ssim, m);
        var err = PixelError.Compute(original, generated, shape, 1.0, m);
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal)
        {
            ["ssim"] = ssim.Whole, ["psnr"] = err.Psnr.Whole, ["mae"] = err.Mae.Whole,
        };
        if (ssim.Inside is { } si) result["ssim.inside"] = si;
        if (ssim.Outside is { } so) result["ssim.outside"] = so;
        if (err.Psnr.Inside is { } pi && double.IsFinite(pi)) result["psnr.inside"] = pi;
        if (err.Psnr.Outside is { } po && double.IsFinite(po)) result["psnr.outside"] = po;
        if (err.Mae.Inside is { } mi) result["mae.inside"] = mi;
        return result;
    }
}
