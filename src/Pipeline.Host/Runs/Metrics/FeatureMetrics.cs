using Pipeline.Core.Domains;
using System.Globalization;
using Pipeline.Core.Contracts;
using Pipeline.Metrics;
using Pipeline.Metrics.Distribution;
using Pipeline.Metrics.Features;
using Pipeline.Metrics.Pixel;
using Pipeline.Metrics.Report;

namespace Pipeline.Host.Runs.Metrics;

/// <summary>Blob names of the learned metrics under runs/{id}/.</summary>
public static class MetricsBlobs
{
    /// <summary>Per-item learned-metric record with the patch features for FD/KID.</summary>
    public static string ItemFeatures(string itemId) => $"features/{itemId}.json";

    /// <summary>FD/KID over the run and its groups, with what was skipped (written by Aggregate, read by Report).</summary>
    public const string SetMetrics = "metrics/set-metrics.json";
}

/// <summary>
/// What Measure stores per item for the learned metrics (runs/{id}/features/{item}.json): the definitions of the
/// values it added to the item's metrics, and the feature vectors of the original and generated patch for FD/KID.
/// </summary>
public sealed record ItemFeatureRecord
{
    public required string ItemId { get; init; }
    public string? Class { get; init; }
    public string? Task { get; init; }
    /// <summary>Definitions (name, version) of the learned per-item metrics in the item's result.</summary>
    public IReadOnlyList<MetricDefinition> Definitions { get; init; } = [];
    /// <summary>The feature model of <see cref="Original"/> and <see cref="Result"/>; null when FD/KID are not computed.</summary>
    public FeatureModelDescriptor? FeatureModel { get; init; }
    public float[]? Original { get; init; }
    public float[]? Result { get; init; }
    /// <summary>Features of the copy&amp;paste baseline's patch (null when the domain has no baseline).</summary>
    public float[]? CopyPaste { get; init; }
    /// <summary>Features of the reference object in its own image (the "real lesions" set).</summary>
    public float[]? RealObject { get; init; }
}

/// <summary>The set-level result the Report activity turns into report.json's setMetrics and skipped entries.</summary>
public sealed record RunSetMetrics(IReadOnlyList<SetMetricValue> Values, IReadOnlyList<MetricDefinition> Definitions, IReadOnlyList<SkippedMetric> Skipped);

/// <summary>
/// The learned metrics of one item and of the run (docs/reference.md, "Metrics"): LPIPS and the FD/KID features on the
/// model-resolution patch around the object (generated vs original, display space [0, 1]), the embedding similarity on
/// the box region of the generated patch against the reference crop.
/// </summary>
public static class FeatureMetrics
{
    /// <summary>Computes the selected per-item metrics; adds them to <paramref name="metrics"/> and returns the item's record.</summary>
    /// <param name="original">Original target patch, display space [0, 1], resolution x resolution.</param>
    /// <param name="generated">Generated patch, same shape.</param>
    /// <param name="reference">Reference crop, display space, square.</param>
    /// <param name="copyPaste">The copy&amp;paste baseline's patch (measured like <paramref name="generated"/>, keys prefixed
    /// "copy&amp;paste/"), or null.</param>
    /// <param name="realObject">The reference object in its own image, cut like the patch (features only), or null.</param>
    public static ItemFeatureRecord MeasureItem(string itemId, string? className, string? task, float[] original, float[] generated, float[] reference,
        CropGeometry geometry, RunMetricSelection selection, RunFeatureNetworks networks, IDictionary<string, double> metrics, CancellationToken cancellationToken,
        float[]? copyPaste = null, float[]? realObject = null)
    {
        int r = geometry.Resolution;
        // grayscale (mammography) or interleaved RGB (driving camera) patches
        var shape = new PlaneShape(r, r, original.Length == 3 * r * r ? 3 : 1);
        if (original.Length != shape.SampleCount || generated.Length != shape.SampleCount)
            throw new ArgumentException($"item {itemId}: patches hold {original.Length} and {generated.Length} samples; {r}x{r} expected");
        var o = new FeatureImage(original, shape, $"{itemId} original patch");
        var g = new FeatureImage(generated, shape, $"{itemId} generated patch");
        FeatureImage? c = copyPaste is null ? null : new FeatureImage(Checked(copyPaste, shape, itemId, "copy&paste"), shape, $"{itemId} copy&paste patch");
        FeatureImage? real = realObject is null ? null : new FeatureImage(Checked(realObject, shape, itemId, "real object"), shape, $"{itemId} real object patch");
        var definitions = new List<MetricDefinition>();
        if (selection.Lpips)
        {
            var net = networks.Lpips!;
            string name = net.MetricName("LPIPS");
            metrics[name] = Pipeline.Metrics.Features.Lpips.Compute(net, o, g, cancellationToken);
            if (c is { } cp) metrics[ComparisonMethod.Key(ComparisonMethod.CopyPaste, name)] = Pipeline.Metrics.Features.Lpips.Compute(net, o, cp, cancellationToken);
            definitions.Add(MetricDefinitions.Lpips(net.Descriptor));
        }
        if (selection.Embedding)
        {
            var net = networks.Embedding!;
            int side = (int)Math.Round(Math.Sqrt(reference.Length / shape.Channels));
            if (side * side * shape.Channels != reference.Length || side == 0)
                throw new ArgumentException($"item {itemId}: the reference crop holds {reference.Length} samples, not a square {shape.Channels}-channel image");
            var box = new PixelBox(geometry.BoxLeft, geometry.BoxTop, geometry.BoxWidth, geometry.BoxHeight);
            var region = ItemMeasurer.Crop(g, box, itemId);
            var refImage = new FeatureImage(reference, new PlaneShape(side, side, shape.Channels), $"{itemId} reference");
            string prefix = networks.Options.EmbeddingMetric;
            metrics[net.MetricName(prefix)] = EmbeddingSimilarity.Compute(net, [region], [refImage], cancellationToken)[0];
            if (c is { } cp)
                metrics[ComparisonMethod.Key(ComparisonMethod.CopyPaste, net.MetricName(prefix))] =
                    EmbeddingSimilarity.Compute(net, [ItemMeasurer.Crop(cp, box, itemId)], [refImage], cancellationToken)[0];
            definitions.Add(MetricDefinitions.Embedding(net.Descriptor, prefix));
        }
        float[]? fo = null, fg = null, fc = null, fr = null;
        FeatureModelDescriptor? model = null;
        if (selection.SetFeatures)
        {
            var net = networks.Features!;
            int d = net.Descriptor.Output!.Dim;
            var images = new List<FeatureImage> { o, g };
            if (c is { } cp) images.Add(cp);
            if (real is { } ro) images.Add(ro);
            var f = net.Extract(images, cancellationToken);
            fo = f[..d]; fg = f[d..(2 * d)];
            int k = 2;
            if (c is not null) { fc = f[(k * d)..((k + 1) * d)]; k++; }
            if (real is not null) fr = f[(k * d)..((k + 1) * d)];
            model = net.Descriptor;
        }
        return new ItemFeatureRecord
        {
            ItemId = itemId, Class = className, Task = task, Definitions = definitions, FeatureModel = model, Original = fo, Result = fg, CopyPaste = fc, RealObject = fr,
        };
    }

    /// <summary>LPIPS on a domain's further patch pairs, each under its key as the prefix (driving: the range depth and
    /// intensity patches, "D-LPIPS[network]" and "I-LPIPS[network]") and, with a baseline patch,
    /// "copy&amp;paste/{prefix}[network]"; returns their definitions (lower is better).</summary>
    public static IReadOnlyList<MetricDefinition> MeasurePairs(string itemId, IReadOnlyDictionary<string, PatchPair> pairs, CropGeometry geometry, RunMetricSelection selection,
        RunFeatureNetworks networks, IDictionary<string, double> metrics, CancellationToken cancellationToken)
    {
        if (!selection.Lpips || pairs.Count == 0) return [];
        var net = networks.Lpips!;
        var definitions = new List<MetricDefinition>();
        var shape = new PlaneShape(geometry.Resolution, geometry.Resolution);
        foreach (var (key, pair) in pairs)
        {
            string name = net.MetricName(key);
            definitions.Add(MetricDefinitions.Lpips(net.Descriptor, key));
            var o = new FeatureImage(Checked(pair.Original, shape, itemId, key), shape, $"{itemId} {key} original");
            metrics[name] = Pipeline.Metrics.Features.Lpips.Compute(net, o, new FeatureImage(Checked(pair.Generated, shape, itemId, key), shape, $"{itemId} {key} generated"), cancellationToken);
            if (pair.CopyPaste is { } cp)
                metrics[ComparisonMethod.Key(ComparisonMethod.CopyPaste, name)] =
                    Pipeline.Metrics.Features.Lpips.Compute(net, o, new FeatureImage(Checked(cp, shape, itemId, key), shape, $"{itemId} {key} copy&paste"), cancellationToken);
        }
        return definitions;
    }

    private static float[] Checked(float[] patch, PlaneShape shape, string itemId, string what) =>
        patch.Length == shape.SampleCount ? patch : throw new ArgumentException($"item {itemId}: the {what} patch holds {patch.Length} samples; {shape.Width}x{shape.Height} expected");

    /// <summary>
    /// FD and KID for the run and per class and per task, four ways (model or copy&amp;paste patches, each against the
    /// original patches of the same items or against the real lesions); a comparison some items cannot make (no baseline)
    /// uses the items that can; a set with fewer than <see cref="RunMetricsOptions.MinSetSamples"/> items is skipped with the count.
    /// KID uses subsets of min(KidSubsetSize, n) items (clean-fid's rule), seeded by the run's seed.
    /// </summary>
    public static RunSetMetrics ComputeSets(IReadOnlyList<ItemFeatureRecord> records, RunMetricSelection selection, RunMetricsOptions options, int seed)
    {
        var skipped = new List<SkippedMetric>(selection.Skipped);
        var values = new List<SetMetricValue>();
        var definitions = new List<MetricDefinition>();
        if (!selection.SetFeatures) return new RunSetMetrics(values, definitions, skipped);
        var withFeatures = records.Where(r => r.FeatureModel is not null && r.Original is not null && r.Result is not null).ToList();
        if (withFeatures.Count == 0)
        {
            if (selection.Fd) skipped.Add(new("FD", "no item has patch features (every item failed before Measure)"));
            if (selection.Kid) skipped.Add(new("KID", "no item has patch features (every item failed before Measure)"));
            return new RunSetMetrics(values, definitions, skipped);
        }
        var model = withFeatures[0].FeatureModel!;
        var mixed = withFeatures.FirstOrDefault(r => r.FeatureModel!.Version != model.Version);
        if (mixed is not null)
            throw new InvalidOperationException($"items {withFeatures[0].ItemId} and {mixed.ItemId} were measured with different feature models ({model.Version} vs {mixed.FeatureModel!.Version}); FD/KID need one model");
        if (selection.Fd) definitions.Add(MetricDefinitions.Fd(model));
        // One definition per name (the report keys them by name) with the configured subsets; each value's own version
        // records the subset size actually used (min(KidSubsetSize, n)).
        if (selection.Kid) definitions.Add(MetricDefinitions.Kid(model, options.KidSubsetCount, options.KidSubsetSize, seed));

        // Four comparisons per set: the model's and the copy&paste baseline's patches, each against the original patches
        // of the same items and against the real lesions (the reference lesions in their own images).
        var comparisons = new (string Method, string Against, Func<ItemFeatureRecord, float[]?> A, Func<ItemFeatureRecord, float[]?> B)[]
        {
            (ComparisonMethod.Model, ComparisonMethod.AgainstOriginal, r => r.Original, r => r.Result),
            (ComparisonMethod.CopyPaste, ComparisonMethod.AgainstOriginal, r => r.Original, r => r.CopyPaste),
            (ComparisonMethod.Model, ComparisonMethod.AgainstRealLesions, r => r.RealObject, r => r.Result),
            (ComparisonMethod.CopyPaste, ComparisonMethod.AgainstRealLesions, r => r.RealObject, r => r.CopyPaste),
        };
        void Set(string scope, string? group, IReadOnlyList<ItemFeatureRecord> set)
        {
            foreach (var cmp in comparisons)
            {
                var members = set.Where(r => cmp.A(r) is not null && cmp.B(r) is not null).ToList();
                if (members.Count == 0) continue;
                Compare(scope, group, members, cmp.Method, cmp.Against, cmp.A, cmp.B);
            }
        }
        void Compare(string scope, string? group, IReadOnlyList<ItemFeatureRecord> set, string method, string against,
            Func<ItemFeatureRecord, float[]?> a, Func<ItemFeatureRecord, float[]?> b)
        {
            string where = (group is null ? scope : $"{scope} {group}") + (method == ComparisonMethod.Model && against == ComparisonMethod.AgainstOriginal ? "" : $", {method} vs {against}");
            if (set.Count < options.MinSetSamples)
            {
                string why = string.Create(CultureInfo.InvariantCulture, $"skipped: fewer than {options.MinSetSamples} samples ({set.Count} in {where}; Pipeline:Metrics:MinSetSamples)");
                if (selection.Fd) skipped.Add(new($"FD[{model.Name}] ({where})", why));
                if (selection.Kid) skipped.Add(new($"KID[{model.Name}] ({where})", why));
                return;
            }
            var items = set.Select(r => new SetMetricsCalculator.ItemFeatures(r.ItemId, null, null, a(r)!, b(r)!)).ToList();
            var kid = new KidOptions { SubsetSize = options.KidSubsetSize, SubsetCount = options.KidSubsetCount, Seed = seed, ShrinkSubsetToSamples = true };
            foreach (var v in SetMetricsCalculator.Compute(model, items, kid))
            {
                bool isFd = v.Metric.StartsWith("FD[", StringComparison.Ordinal);
                if (isFd ? !selection.Fd : !selection.Kid) continue;
                if (!double.IsFinite(v.Value))
                {
                    skipped.Add(new($"{v.Metric} ({where})", "not finite: " + string.Join("; ", v.Warnings)));
                    continue;
                }
                values.Add(v with { Scope = scope, Group = group, Method = method, Against = against });
            }
        }
        Set("run", null, withFeatures);
        foreach (var g in withFeatures.Where(r => r.Class is not null).GroupBy(r => r.Class!).OrderBy(g => g.Key, StringComparer.Ordinal)) Set("class", g.Key, g.ToList());
        foreach (var g in withFeatures.Where(r => r.Task is not null).GroupBy(r => r.Task!).OrderBy(g => g.Key, StringComparer.Ordinal)) Set("task", g.Key, g.ToList());
        return new RunSetMetrics(values, definitions, skipped);
    }
}
