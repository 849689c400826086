namespace Pipeline.Metrics.Features;

/// <summary>
/// LPIPS (Zhang et al. 2018, "The unreasonable effectiveness of deep features as a perceptual metric", eq. 1), v0.1 as
/// richzhang/PerceptualSimilarity computes it: for each layer l, unit-normalise the activations along channels
/// (y / (sqrt(sum_c y^2) + 1e-10)), take the squared difference, weight channel c by the non-negative head w_l,c,
/// average over the H_l x W_l positions, and sum over layers. Reported as LPIPS[backbone]; images in [0, 1] are mapped
/// to [-1, 1] and scaled by the descriptor (LPIPS' ScalingLayer shift/scale go in mean/std).
/// </summary>
public static class Lpips
{
    private const double Eps = 1e-10;

    /// <summary>LPIPS distance of each pair (a[i], b[i]).</summary>
    public static double[] Compute(FeatureNetwork network, IReadOnlyList<FeatureImage> a, IReadOnlyList<FeatureImage> b, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Descriptor.Kind != FeatureModelKind.Lpips)
            throw new InvalidOperationException($"LPIPS needs a backbone with layer heads (kind lpips); '{network.Descriptor.Name}' is kind {network.Descriptor.Kind}");
        if (a.Count != b.Count) throw new ArgumentException($"LPIPS: {a.Count} images against {b.Count}; pairs must match");
        var result = new double[a.Count];
        int batch = Math.Max(1, network.BatchSize / 2);
        for (int start = 0; start < a.Count; start += batch)
        {
            int n = Math.Min(batch, a.Count - start);
            var images = new List<FeatureImage>(2 * n);
            for (int i = 0; i < n; i++) images.Add(a[start + i]);
            for (int i = 0; i < n; i++) images.Add(b[start + i]);
            var layers = network.Activations(images, cancellationToken);
            for (int l = 0; l < layers.Count; l++)
            {
                var (values, shape) = layers[l];
                var w = network.Descriptor.Layers[l].Weights;
                for (int i = 0; i < n; i++)
                    result[start + i] += LayerDistance(values, shape, i, n + i, w);
            }
        }
        return result;
    }

    public static double Compute(FeatureNetwork network, FeatureImage a, FeatureImage b, CancellationToken cancellationToken = default) =>
        Compute(network, [a], [b], cancellationToken)[0];

    /// <summary>Spatial mean of sum_c w_c (y1_hat - y2_hat)^2 for two batch entries of one layer ([N, C, H, W] values).</summary>
    internal static double LayerDistance(float[] values, long[] shape, int first, int second, double[] weights)
    {
        int c = (int)shape[1], hw = (int)(shape[2] * shape[3]);
        int o1 = first * c * hw, o2 = second * c * hw;
        double total = 0;
        for (int p = 0; p < hw; p++)
        {
            double n1 = 0, n2 = 0;
            for (int ch = 0; ch < c; ch++)
            {
                double v1 = values[o1 + ch * hw + p], v2 = values[o2 + ch * hw + p];
                n1 += v1 * v1; n2 += v2 * v2;
            }
            n1 = Math.Sqrt(n1) + Eps; n2 = Math.Sqrt(n2) + Eps;
            double d = 0;
            for (int ch = 0; ch < c; ch++)
            {
                double t = values[o1 + ch * hw + p] / n1 - values[o2 + ch * hw + p] / n2;
                d += weights[ch] * t * t;
            }
            total += d;
        }
        return total / hw;
    }
}

/// <summary>
/// D-LPIPS / I-LPIPS for lidar range views (MObI; docs/reference.md, "Metrics"): the depth or intensity channel, normalised to [0, 1],
/// tiled to three channels and compared with LPIPS. Reported as D-LPIPS[backbone] and I-LPIPS[backbone].
/// </summary>
public static class RangeViewLpips
{
    public enum Channel { Depth, Intensity }

    public static string MetricName(Channel channel, FeatureNetwork network) => network.MetricName(channel == Channel.Depth ? "D-LPIPS" : "I-LPIPS");

    /// <summary>LPIPS between two single-channel range-view patches with values in [0, 1].</summary>
    public static double Compute(FeatureNetwork network, Channel channel, FeatureImage a, FeatureImage b, CancellationToken cancellationToken = default)
    {
        if (a.Shape.Channels != 1 || b.Shape.Channels != 1)
            throw new ArgumentException($"{channel} LPIPS compares single-channel range views ({a.Name}: {a.Shape.Channels}, {b.Name}: {b.Shape.Channels} channels); pass the {channel.ToString().ToLowerInvariant()} channel alone, normalised to [0, 1]");
        return Lpips.Compute(network, a, b, cancellationToken); // FeatureInputPreparation tiles one channel to three
    }
}

/// <summary>
/// Embedding similarity: 100 x cosine(e(generated box region), e(reference)), as the thesis code's ref_score.py computes
/// CLIP-I (CLIP ViT-B/32) and DINOv2 (224 x 224) (docs/reference.md, "Metrics"). Reported as CLIP-I[name] / DINOv2[name] per the network used.
/// </summary>
public static class EmbeddingSimilarity
{
    public static double[] Compute(FeatureNetwork network, IReadOnlyList<FeatureImage> generated, IReadOnlyList<FeatureImage> references, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Descriptor.Kind != FeatureModelKind.Embedding)
            throw new InvalidOperationException($"embedding similarity needs an embedding model; '{network.Descriptor.Name}' is kind {network.Descriptor.Kind}");
        if (generated.Count != references.Count) throw new ArgumentException($"embedding similarity: {generated.Count} images against {references.Count} references; pairs must match");
        int d = network.Descriptor.Output!.Dim;
        var eg = network.Extract(generated, cancellationToken);
        var er = network.Extract(references, cancellationToken);
        var result = new double[generated.Count];
        for (int i = 0; i < result.Length; i++) result[i] = 100 * Cosine(eg.AsSpan(i * d, d), er.AsSpan(i * d, d), generated[i].Name);
        return result;
    }

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b, string item = "embedding")
    {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++) { ab += (double)a[i] * b[i]; aa += (double)a[i] * a[i]; bb += (double)b[i] * b[i]; }
        if (aa == 0 || bb == 0) throw new ArithmeticException($"{item}: an embedding is all zeros; cosine similarity is undefined");
        return ab / (Math.Sqrt(aa) * Math.Sqrt(bb));
    }
}
