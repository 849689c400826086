using System.Buffers;

namespace Pipeline.Metrics.Pixel;

/// <summary>
/// MS-SSIM (Wang, Simoncelli, Bovik 2003, eq. 7): MS-SSIM = l_M^{a_M} * prod_{j=1..M} cs_j^{b_j}, computed as
/// torchmetrics does: M = 5 scales, exponents (0.0448, 0.2856, 0.3001, 0.2363, 0.1333); scales 1..4 contribute the
/// mean contrast-structure term, the coarsest scale the mean SSIM; 2x2 average pooling (odd sizes floored) between
/// scales; "relu" normalisation (negative terms clamped to 0). Border handling per <see cref="SsimOptions.Border"/>
/// at every scale. With a mask, a coarse pixel is inside when at least half of the full-resolution pixels it covers
/// are (the mask is average-pooled with the images and thresholded at 0.5 at each scale).
/// </summary>
public static class MultiScaleStructuralSimilarity
{
    /// <summary>The five scale weights of the paper (and torchmetrics' <c>betas</c>).</summary>
    public static readonly IReadOnlyList<double> Weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

    /// <summary>The smallest side an image may have: the coarsest scale (1/16) must still hold one SSIM window.</summary>
    public static int MinimumSide(SsimOptions options) => (2 * GaussianWindow.Radius(options.Sigma) + 1) << (Weights.Count - 1);

    public static RegionScores Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, PlaneShape shape, SsimOptions options, ReadOnlySpan<byte> mask = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        shape.Validate(a.Length, b.Length, mask.Length, "MS-SSIM");
        PlaneShape.CheckFinite(a, "MS-SSIM", "first");
        PlaneShape.CheckFinite(b, "MS-SSIM", "second");
        int min = MinimumSide(options);
        if (shape.Width < min || shape.Height < min)
            throw new ArgumentException($"MS-SSIM: the image ({shape.Width}x{shape.Height}) is too small for {Weights.Count} scales; each side must be at least {min} pixels (use SSIM for smaller images)");
        bool masked = mask.Length > 0;
        int w = shape.Width, h = shape.Height, n = w * h, channels = shape.Channels;
        var pool = ArrayPool<double>.Shared;
        var planes = new double[2 * channels][]; // x of each channel, then y
        double[] line = pool.Rent(w);
        byte[] m = masked ? ArrayPool<byte>.Shared.Rent(n) : [];
        double[] coverage = masked ? pool.Rent(n) : [];
        if (masked) mask.CopyTo(m);
        for (int i = 0; i < (masked ? n : 0); i++) coverage[i] = mask[i] != 0 ? 1 : 0;
        Span<(double Whole, double? Inside, double? Outside)> terms = stackalloc (double, double?, double?)[Weights.Count];
        try
        {
            for (int c = 0; c < channels; c++)
            {
                planes[c] = pool.Rent(n); planes[channels + c] = pool.Rent(n);
                StructuralSimilarity.ExtractPlane(a, channels, c, planes[c].AsSpan(0, n));
                StructuralSimilarity.ExtractPlane(b, channels, c, planes[channels + c].AsSpan(0, n));
            }
            int border = StructuralSimilarity.ExcludedBorder(options);
            for (int scale = 0; scale < Weights.Count; scale++)
            {
                n = w * h;
                bool last = scale == Weights.Count - 1;
                var sums = new RegionSums();
                for (int c = 0; c < channels; c++)
                {
                    // Scales 1..4 contribute the contrast-structure term, the coarsest the SSIM itself.
                    var kernel = new SsimKernel(planes[c].AsSpan(0, n), planes[channels + c].AsSpan(0, n), w, h, options);
                    try
                    {
                        for (int row = border; row < h - border; row++)
                        {
                            if (last) kernel.Row(row, line.AsSpan(0, w), default);
                            else kernel.Row(row, default, line.AsSpan(0, w));
                            sums.AddRow(line.AsSpan(0, w), row, w, border, masked ? m.AsSpan(0, n) : default);
                        }
                    }
                    finally
                    {
                        kernel.Dispose();
                    }
                }
                var s = sums.ToScores(masked);
                terms[scale] = (s.Whole, s.Inside, s.Outside);
                if (last) break;
                foreach (var plane in planes) AveragePool2x2(plane, w, h);
                if (masked)
                {
                    AveragePool2x2(coverage, w, h);
                    for (int i = 0; i < (w / 2) * (h / 2); i++) m[i] = (byte)(coverage[i] >= 0.5 ? 1 : 0);
                }
                w /= 2; h /= 2;
            }
            double? inside = 1, outside = 1, whole = 1;
            for (int j = 0; j < terms.Length; j++)
            {
                whole *= Term(terms[j].Whole, j);
                inside = inside * (terms[j].Inside is { } v ? Term(v, j) : null);
                outside = outside * (terms[j].Outside is { } o ? Term(o, j) : null);
            }
            return new RegionScores(whole.Value, masked ? inside : null, masked ? outside : null);
        }
        finally
        {
            pool.Return(line);
            if (masked) { pool.Return(coverage); ArrayPool<byte>.Shared.Return(m); }
            foreach (var p in planes) if (p != null) pool.Return(p);
        }
    }

    /// <summary>One factor of eq. 7: the term clamped at 0 ("relu"), raised to its scale's weight.</summary>
    private static double Term(double value, int scale) => Math.Pow(Math.Max(value, 0), Weights[scale]);

    /// <summary>In place: the (w/2) x (h/2) plane of 2x2 means (torch avg_pool2d(2, 2); the odd last row/column is dropped).</summary>
    internal static void AveragePool2x2(double[] plane, int w, int h)
    {
        int w2 = w / 2, h2 = h / 2;
        for (int y = 0; y < h2; y++)
        {
            int r0 = 2 * y * w, r1 = r0 + w, o = y * w2;
            for (int x = 0; x < w2; x++)
                plane[o + x] = 0.25 * (plane[r0 + 2 * x] + plane[r0 + 2 * x + 1] + plane[r1 + 2 * x] + plane[r1 + 2 * x + 1]);
        }
    }
}
