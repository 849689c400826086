using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Imaging.Compositing;

/// <summary>
/// Keeping the target's tissue under an inserted lesion (docs/preprocessing.md, "Keeping the target's tissue"). The
/// model sees the box masked and generates the lesion over its own smooth estimate of the tissue; pasted back, the box
/// reads as a smooth (or darker, or brighter) square in fibrous tissue. For insertion the box holds healthy tissue, and
/// a lesion in a projection image lies over (adds to) the tissue above and below it. So the lesion is taken as what
/// the model generated above the background it generated, and added to the target's own tissue:
/// <code>kept = clamp(original + taper max(sample - fill(sample), 0), -1, 1)</code> inside the box, the sample outside it,
/// where fill is the normalised convolution (Knutsson and Westin 1993) of the sample over the
/// <see cref="RingWidth"/>-pixel band just inside the box edge (where a roundish lesion has given way to background),
/// with a Gaussian of sigma pixels (<see cref="GaussianBlur"/>, replicate borders): <c>G(sample w) / (G(w) + 1e-6)</c>,
/// w = 1 on the band: a smooth interpolation of the generated background into the box, as the training job's
/// harmonised placement estimates a reference lesion's background. The taper (<see cref="EdgeTaper"/>) takes the excess
/// to 0 on the box's outermost ring (the fill is smooth, so the generated background's own texture would otherwise leak
/// in along the edge), so the output meets the target without a step; a sample that is only background gives the target itself. Only the excess above
/// the background is kept: a lesion adds density (attenuation), so it is brighter than the tissue it lies over in a
/// MONOCHROME2 display; darker patches the model draws around a lesion are its background, not the lesion. Pure.
/// </summary>
public static class TargetTexture
{
    /// <summary>Width in pixels of the band inside the box edge the background estimate is interpolated from.</summary>
    public const int RingWidth = 2;

    /// <summary>The smooth background estimate inside the box: the normalised convolution of <paramref name="image"/> over the
    /// band of box pixels within <see cref="RingWidth"/> pixels (Chebyshev) of a pixel outside the box of
    /// <paramref name="mask"/> (1 inside) or of the crop's edge.</summary>
    public static float[] Fill(ReadOnlySpan<float> image, ReadOnlySpan<float> mask, int resolution, double sigma)
    {
        int n = resolution * resolution;
        var band = new float[n];
        for (int y = 0; y < resolution; y++)
            for (int x = 0; x < resolution; x++)
            {
                if (mask[y * resolution + x] == 0) continue;
                bool near = false;
                for (int dy = -RingWidth; dy <= RingWidth && !near; dy++)
                    for (int dx = -RingWidth; dx <= RingWidth && !near; dx++)
                    {
                        int yy = y + dy, xx = x + dx;
                        near = yy < 0 || yy >= resolution || xx < 0 || xx >= resolution || mask[yy * resolution + xx] == 0;
                    }
                if (near) band[y * resolution + x] = 1;
            }
        var weighted = new float[n];
        for (int i = 0; i < n; i++) weighted[i] = image[i] * band[i];
        var num = new float[n];
        var den = new float[n];
        GaussianBlur.Apply(weighted, resolution, resolution, sigma, num);
        GaussianBlur.Apply(band, resolution, resolution, sigma, den);
        var fill = new float[n];
        for (int i = 0; i < n; i++) fill[i] = num[i] / (den[i] + 1e-6f);
        return fill;
    }

    /// <summary>The generated lesion over the target's own tissue (model space, [-1, 1]).</summary>
    public static void Keep(ReadOnlySpan<float> sample, ReadOnlySpan<float> original, ReadOnlySpan<float> mask, int resolution, double sigma, Span<float> destination)
    {
        int n = resolution * resolution;
        if (resolution < 1) throw new ArgumentOutOfRangeException(nameof(resolution), $"resolution must be positive, got {resolution}");
        if (sample.Length != n || original.Length != n || mask.Length != n || destination.Length != n)
            throw new ArgumentException($"sample, original, mask and destination must hold {resolution}x{resolution} samples (got {sample.Length}, {original.Length}, {mask.Length}, {destination.Length})");
        var fill = Fill(sample, mask, resolution, sigma);
        var taper = EdgeTaper(mask, resolution);
        for (int i = 0; i < n; i++) destination[i] = Math.Clamp(mask[i] != 0 ? original[i] + taper[i] * Math.Max(sample[i] - fill[i], 0f) : sample[i], -1f, 1f);
    }

    /// <summary>The weight of the excess in the box: <c>min(1, (k - 1) / RingWidth)</c>, k the Chebyshev distance from the
    /// pixel to the nearest pixel outside the box or the crop (1 on the box's outermost ring): 0 on that ring, 1 from
    /// <see cref="RingWidth"/> + 1 pixels in; 0 outside the box.</summary>
    public static float[] EdgeTaper(ReadOnlySpan<float> mask, int resolution)
    {
        var taper = new float[resolution * resolution];
        for (int y = 0; y < resolution; y++)
            for (int x = 0; x < resolution; x++)
            {
                if (mask[y * resolution + x] == 0) continue;
                int k = 1;
                for (; k <= RingWidth; k++)
                {
                    bool outside = false;
                    for (int dy = -k; dy <= k && !outside; dy++)
                        for (int dx = -k; dx <= k && !outside; dx++)
                        {
                            int yy = y + dy, xx = x + dx;
                            outside = yy < 0 || yy >= resolution || xx < 0 || xx >= resolution || mask[yy * resolution + xx] == 0;
                        }
                    if (outside) break;
                }
                taper[y * resolution + x] = Math.Min(1f, (k - 1) / (float)RingWidth);
            }
        return taper;
    }

    /// <summary>As <see cref="Keep(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, int, double, Span{float})"/>, into a new array.</summary>
    public static float[] Keep(ReadOnlySpan<float> sample, ReadOnlySpan<float> original, ReadOnlySpan<float> mask, int resolution, double sigma)
    {
        var kept = new float[sample.Length];
        Keep(sample, original, mask, resolution, sigma, kept);
        return kept;
    }
}
