using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Compositing;

/// <summary>
/// Keeping the target's own texture in the box (docs/preprocessing.md, "Keeping the target's texture"). A small
/// inpainting model sees the box masked and fills it with the lesion and a smooth estimate of the tissue; at normal
/// viewing contrast that reads as a smooth square in fibrous tissue. For insertion the box holds healthy tissue, and a
/// lesion in a projection image lies over (adds to) the tissue above and below it, so the tissue's texture belongs in
/// the output; for reinsertion it is the lesion's own. At model resolution:
/// <code>kept = clamp(sample + mask (original - G_sigma(original)), -1, 1)</code>
/// (G_sigma: <see cref="GaussianBlur"/>, replicate borders; mask: the box mask, 1 inside), i.e. inside the box the
/// generated low band plus the target's band above the Gaussian; outside it the sample, which already carries the
/// context. Where the model reproduced the target's low band the result is the target itself. Pure.
/// </summary>
public static class TargetTexture
{
    /// <summary>The generated crop with the target's band above <paramref name="sigma"/> added (model space, [-1, 1]).</summary>
    public static void Keep(ReadOnlySpan<float> sample, ReadOnlySpan<float> original, ReadOnlySpan<float> mask, int resolution, double sigma, Span<float> destination)
    {
        int n = resolution * resolution;
        if (resolution < 1) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution must be positive, got {resolution}");
        if (sample.Length != n || original.Length != n || mask.Length != n || destination.Length != n)
            throw new ArgumentException($"sample, original, mask and destination must hold {resolution}x{resolution} samples (got {sample.Length}, {original.Length}, {mask.Length}, {destination.Length})");
        var low = new float[n];
        GaussianBlur.Apply(original, resolution, resolution, sigma, low);
        for (int i = 0; i < n; i++) destination[i] = Math.Clamp(sample[i] + mask[i] * (original[i] - low[i]), -1f, 1f);
    }

    /// <summary>As <see cref="Keep(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, int, double, Span{float})"/>, into a new array.</summary>
    public static float[] Keep(ReadOnlySpan<float> sample, ReadOnlySpan<float> original, ReadOnlySpan<float> mask, int resolution, double sigma)
    {
        var kept = new float[sample.Length];
        Keep(sample, original, mask, resolution, sigma, kept);
        return kept;
    }
}
