using Pipeline.Metrics.Distribution;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Pixel;

namespace Pipeline.Metrics.Report;

/// <summary>A box inside a patch, in patch pixels.</summary>
public readonly record struct PixelBox(int X, int Y, int Width, int Height);

/// <summary>
/// One item to measure, as the thesis defines the regions (docs/reference.md, "Metrics"): the <em>patch</em> is the extended crop around the
/// object taken from the original and from the composited result (FID/LPIPS, SSIM/PSNR); the <em>box</em> is the
/// object's box inside it, compared with the reference crop (CLIP-I / DINOv2). Images are interleaved floats in [0, 1].
/// </summary>
public sealed record ItemMeasurementInput
{
    public required string ItemId { get; init; }
    public required FeatureImage OriginalPatch { get; init; }
    public required FeatureImage ResultPatch { get; init; }
    /// <summary>The reference crop (the object to insert); null skips the embedding similarity.</summary>
    public FeatureImage? Reference { get; init; }
    public PixelBox? Box { get; init; }
    /// <summary>Edit mask over the patch (one byte per pixel); adds inside / outside pixel scores.</summary>
    public byte[]? Mask { get; init; }
}

/// <summary>The networks and settings of a run's per-item metrics; a null network means that metric is skipped, with the reason.</summary>
public sealed record ItemMeasurementOptions
{
    /// <summary>Pixel metrics run on [0, 1] images, so the data range is 1.</summary>
    public SsimOptions Ssim { get; init; } = new(1.0);
    public FeatureNetwork? Lpips { get; init; }
    /// <summary>Embedding model for the box-vs-reference similarity, and the metric prefix it is reported under ("CLIP-I" or "DINOv2").</summary>
    public FeatureNetwork? Embedding { get; init; }
    public string EmbeddingMetric { get; init; } = "CLIP-I";
    /// <summary>Feature model whose patch features feed FD/KID over the run.</summary>
    public FeatureNetwork? SetFeatures { get; init; }
}

/// <summary>Per-item metric values, the patch features for set metrics, and what was skipped.</summary>
public sealed record ItemMeasurement(IReadOnlyList<MetricValue> Metrics, float[]? OriginalFeatures, float[]? ResultFeatures, IReadOnlyList<SkippedMetric> Skipped);

/// <summary>Computes an item's metrics (the Measure stage's work, host-agnostic).</summary>
public static class ItemMeasurer
{
    public static ItemMeasurement Measure(ItemMeasurementInput input, ItemMeasurementOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        var o = input.OriginalPatch;
        var r = input.ResultPatch;
        if (o.Shape != r.Shape) throw new ArgumentException($"item {input.ItemId}: original patch is {o.Shape}, result patch is {r.Shape}; they must match");
        var metrics = new List<MetricValue>();
        var skipped = new List<SkippedMetric>();
        var mask = input.Mask ?? [];
        var ssim = StructuralSimilarity.Compute(o.Pixels.Span, r.Pixels.Span, o.Shape, options.Ssim, mask);
        string sv = options.Ssim.DefinitionVersion;
        metrics.Add(new("ssim", "patch", ssim.Whole, sv));
        if (mask.Length > 0) { metrics.Add(new("ssim", "inside", ssim.Inside, sv)); metrics.Add(new("ssim", "outside", ssim.Outside, sv)); }
        var err = PixelError.Compute(o.Pixels.Span, r.Pixels.Span, o.Shape, options.Ssim.DataRange, mask);
        string pv = MetricDefinitions.PsnrVersion(options.Ssim.DataRange);
        metrics.Add(new("psnr", "patch", err.Psnr.Whole, pv));
        if (mask.Length > 0) metrics.Add(new("psnr", "inside", err.Psnr.Inside, pv));

        if (options.Lpips is { } lp)
            metrics.Add(new(lp.MetricName("LPIPS"), "patch", Lpips.Compute(lp, o, r, cancellationToken), MetricDefinitions.LpipsVersion(lp.Descriptor)));
        else skipped.Add(new("LPIPS", "no LPIPS backbone configured; not substituted by another network"));

        if (options.Embedding is { } em)
        {
            if (input.Reference is { } reference && input.Box is { } box)
            {
                var region = Crop(r, box, input.ItemId);
                double sim = EmbeddingSimilarity.Compute(em, [region], [reference], cancellationToken)[0];
                metrics.Add(new(em.MetricName(options.EmbeddingMetric), "box", sim, MetricDefinitions.EmbeddingVersion(em.Descriptor)));
            }
            else skipped.Add(new(options.EmbeddingMetric, $"item {input.ItemId} has no reference crop or box"));
        }
        else skipped.Add(new(options.EmbeddingMetric, "no embedding model configured; not substituted by another network"));

        float[]? fo = null, fr = null;
        if (options.SetFeatures is { } sf)
        {
            var f = sf.Extract([o, r], cancellationToken);
            int d = sf.Descriptor.Output!.Dim;
            fo = f[..d]; fr = f[d..];
        }
        return new ItemMeasurement(metrics, fo, fr, skipped);
    }

    /// <summary>The pixels of <paramref name="box"/> inside <paramref name="image"/>.</summary>
    public static FeatureImage Crop(FeatureImage image, PixelBox box, string item)
    {
        var s = image.Shape;
        if (box.Width <= 0 || box.Height <= 0 || box.X < 0 || box.Y < 0 || box.X + box.Width > s.Width || box.Y + box.Height > s.Height)
            throw new ArgumentException($"item {item}: box {box} lies outside the {s.Width}x{s.Height} patch");
        var src = image.Pixels.Span;
        var dst = new float[box.Width * box.Height * s.Channels];
        for (int y = 0; y < box.Height; y++)
            src.Slice(((box.Y + y) * s.Width + box.X) * s.Channels, box.Width * s.Channels).CopyTo(dst.AsSpan(y * box.Width * s.Channels));
        return new FeatureImage(dst, new PlaneShape(box.Width, box.Height, s.Channels), $"{item} box");
    }
}

/// <summary>FD and KID over a run's patch features, for the whole run and per class / task (the Aggregate stage).</summary>
public static class SetMetricsCalculator
{
    /// <summary>One item's patch features, original and result, with its grouping.</summary>
    public sealed record ItemFeatures(string ItemId, string? Class, string? Task, float[] Original, float[] Result);

    public static IReadOnlyList<SetMetricValue> Compute(FeatureModelDescriptor model, IReadOnlyList<ItemFeatures> items, KidOptions kid, FrechetOptions? fd = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        int d = model.Output?.Dim ?? throw new ArgumentException($"feature model '{model.Name}' has no feature output");
        var results = new List<SetMetricValue>();
        void Add(string scope, string? group, IReadOnlyList<ItemFeatures> set)
        {
            if (set.Count < 2)
            {
                results.Add(new($"FD[{model.Name}]", scope, group, double.NaN, null, MetricDefinitions.FdVersion(model), set.Count, set.Count, [$"only {set.Count} item(s); FD needs at least 2"]));
                return;
            }
            var a = set.SelectMany(i => Checked(i.Original, d, i.ItemId)).ToArray();
            var b = set.SelectMany(i => Checked(i.Result, d, i.ItemId)).ToArray();
            var f = FrechetDistance.Compute(a, set.Count, b, set.Count, d, fd);
            results.Add(new($"FD[{model.Name}]", scope, group, f.Distance, null, MetricDefinitions.FdVersion(model), set.Count, set.Count, f.Warnings));
            try
            {
                var k = KernelInceptionDistance.Compute(a, set.Count, b, set.Count, d, kid);
                results.Add(new($"KID[{model.Name}]", scope, group, k.Mean, k.Std, MetricDefinitions.KidVersion(model, k.SubsetCount, k.SubsetSize, k.Seed), set.Count, set.Count, k.Warnings));
            }
            catch (InsufficientSamplesException e)
            {
                results.Add(new($"KID[{model.Name}]", scope, group, double.NaN, null, MetricDefinitions.KidVersion(model, kid.SubsetCount, kid.SubsetSize, kid.Seed), set.Count, set.Count, [e.Message]));
            }
        }
        Add("run", null, items);
        foreach (var g in items.Where(i => i.Class != null).GroupBy(i => i.Class!).OrderBy(g => g.Key, StringComparer.Ordinal)) Add("class", g.Key, g.ToList());
        foreach (var g in items.Where(i => i.Task != null).GroupBy(i => i.Task!).OrderBy(g => g.Key, StringComparer.Ordinal)) Add("task", g.Key, g.ToList());
        return results;
    }

    private static float[] Checked(float[] f, int d, string item) =>
        f.Length == d ? f : throw new ArgumentException($"item {item}: {f.Length} feature values, the model gives {d}");
}
