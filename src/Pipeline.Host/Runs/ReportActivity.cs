using System.Globalization;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Runs.Metrics;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Metrics;
using Pipeline.Metrics.Gate;
using Pipeline.Metrics.Pixel;
using Pipeline.Metrics.Report;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>
/// Report: runs/{id}/report.json and a self-contained report.html (Pipeline.Metrics' report with thumbnails of each
/// item's original crop, masked context, reference, result and difference), and the augmented dataset's annotation
/// file runs/{id}/out/finding_annotations.csv written by the run's domain (<see cref="Pipeline.Core.Domains.IItemComposer.AnnotationsAsync"/>).
/// </summary>
public sealed class ReportActivity(PipelineStorage storage, RunDomains domains) : Activity<RunStageInput, ReportOutcome>
{
    public override string Name => RunActivityNames.Report;

    public override async Task<ReportOutcome> RunAsync(RunStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var planned = await RunResults.ReadPlannedItemsAsync(run, plan, cancellationToken).ConfigureAwait(false);
        var results = (await RunResults.ReadItemsAsync(run, cancellationToken).ConfigureAwait(false)).ToDictionary(r => r.ItemId, StringComparer.Ordinal);
        var lineages = new Dictionary<string, Lineage>(StringComparer.Ordinal);
        foreach (var r in results.Values.Where(r => r.Lineage is not null))
        {
            var l = await run.ReadJsonAsync<Lineage>(RunBlobs.OutputLineage(r.ItemId), cancellationToken).ConfigureAwait(false);
            if (l is not null) lineages[r.ItemId] = l.Value;
        }

        var sets = (await run.ReadJsonAsync<RunSetMetrics>(MetricsBlobs.SetMetrics, cancellationToken).ConfigureAwait(false))?.Value
                   ?? throw new InvalidOperationException($"run {input.RunId}: {MetricsBlobs.SetMetrics} is missing (Aggregate did not finish)");
        // Versions of the learned per-item metrics, from the items' feature records.
        var learned = new SortedDictionary<string, MetricDefinition>(StringComparer.Ordinal);
        foreach (var record in await RunResults.ReadFeatureRecordsAsync(run, results.Values, cancellationToken).ConfigureAwait(false))
            foreach (var d in record.Definitions) learned.TryAdd(d.Name, d);

        var itemReports = new List<ItemReport>();
        foreach (var item in planned)
        {
            var r = results.GetValueOrDefault(item.ItemId);
            bool ok = r is not null && r.Outcome != ItemOutcome.Failed;
            itemReports.Add(new ItemReport
            {
                ItemId = item.ItemId, Class = item.ClassName, Task = item.Mode.ToString().ToLowerInvariant(), Succeeded = ok,
                Error = r is null ? "no result recorded" : r.Error ?? (r.Flags.Count > 0 ? "flagged: " + string.Join("; ", r.Flags) : null),
                Metrics = r is null ? [] : r.Metrics.Select(m => ToMetricValue(m.Key, m.Value, learned)).ToList(),
                Lineage = LineageMap(item, lineages.GetValueOrDefault(item.ItemId)),
                Thumbnails = !ok ? []
                    : domains.For(plan.Domain).Composer is Pipeline.Core.Domains.IItemPictures pictures
                        ? (await pictures.PicturesAsync(item, r!, new StorageBlobReader(storage), cancellationToken).ConfigureAwait(false)).Select(p => new ReportImage(p.Label, "image/png", p.Png)).ToList()
                        : await ThumbnailsAsync(run, item.ItemId, cancellationToken).ConfigureAwait(false),
            });
        }
        var request = plan.Request;
        var sampler = lineages.Values.FirstOrDefault()?.Sampler;
        var annotations = await domains.For(plan.Domain).Composer.AnnotationsAsync(planned, results, lineages, new StorageBlobReader(storage), cancellationToken).ConfigureAwait(false);

        var model = new RunReportModel
        {
            RunId = input.RunId,
            Title = $"Augmentation run {input.RunId} on dataset '{request.Dataset}'",
            State = results.Values.All(r => r.Outcome == ItemOutcome.Failed) ? "Failed"
                : results.Values.Any(r => r.Outcome == ItemOutcome.Failed) || results.Count < planned.Count ? "CompletedWithFailures" : "Completed",
            Settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["dataset"] = request.Dataset, ["model"] = plan.Model, ["modelSha256"] = plan.ModelSha256 ?? "",
                ["seed"] = request.Seed.ToString(CultureInfo.InvariantCulture),
                ["tasks"] = string.Join("; ", request.Tasks.Select(t => $"{t.Mode.ToString().ToLowerInvariant()} x{t.ItemCount}" +
                    (t.Targets is null ? "" : " (" + string.Join(", ", t.Targets.Select(p => $"{p.Key} {p.Value}")) + ")"))),
                ["scheduler"] = sampler?.Scheduler?.ToString().ToLowerInvariant() ?? "", ["steps"] = sampler?.Steps?.ToString(CultureInfo.InvariantCulture) ?? "",
                ["guidance"] = sampler?.Guidance?.ToString(CultureInfo.InvariantCulture) ?? "", ["eta"] = sampler?.Eta?.ToString(CultureInfo.InvariantCulture) ?? "",
                ["shardSize"] = request.ShardSize.ToString(CultureInfo.InvariantCulture),
                ["shortfalls"] = string.Join("; ", plan.Shortfalls),
            },
            Lineage = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["datasetIndexSha256"] = plan.DatasetIndexSha256 ?? "", ["model"] = plan.Model, ["modelSha256"] = plan.ModelSha256 ?? "",
                ["annotationFile"] = annotations.Count > 0 ? $"runs/{input.RunId}/{RunBlobs.Output(annotations[0].Path)}" : "",
            },
            Definitions = [.. PixelDefinitions, .. ChannelDefinitions(itemReports), .. learned.Values, .. sets.Definitions],
            Items = itemReports,
            SetMetrics = sets.Values,
            Skipped = [.. sets.Skipped, .. GateSkipped(request.RealismGate, results.Values)],
        };
        var report = RunReportBuilder.Build(model, new Pipeline.Metrics.Aggregation.BootstrapOptions { Seed = (int)(request.Seed & 0x7fffffff) });
        await run.WriteIfAbsentAsync(RunBlobs.ReportJson, BinaryData.FromString(report.ToJson()), "application/json", cancellationToken).ConfigureAwait(false);
        await run.WriteIfAbsentAsync(RunBlobs.ReportHtml, BinaryData.FromString(ReportHtml.Render(report, model)), "text/html", cancellationToken).ConfigureAwait(false);
        // the report model, so `pipeline report <runId>` can rebuild the report (e.g. after a report-code update)
        await run.WriteIfAbsentAsync(RunBlobs.ReportModel, BinaryData.FromString(System.Text.Json.JsonSerializer.Serialize(model, RunReport.JsonOptions)),
            "application/json", cancellationToken).ConfigureAwait(false);
        foreach (var file in annotations)
            await run.WriteIfAbsentAsync(RunBlobs.Output(file.Path), BinaryData.FromBytes(file.Content), file.ContentType, cancellationToken).ConfigureAwait(false);
        return new ReportOutcome($"runs/{input.RunId}/{RunBlobs.ReportJson}", $"runs/{input.RunId}/{RunBlobs.ReportHtml}",
            annotations.Count > 0 ? $"runs/{input.RunId}/{RunBlobs.Output(annotations[0].Path)}" : "");
    }

    /// <summary>Gate thresholds on learned metrics that no item was measured with: stated, since they flagged nothing.</summary>
    private static IEnumerable<SkippedMetric> GateSkipped(RealismGate? gate, IEnumerable<ItemResult> results)
    {
        var measured = results.Where(r => r.Outcome != ItemOutcome.Failed).SelectMany(r => r.Metrics.Keys).ToHashSet(StringComparer.Ordinal);
        if (gate?.MaxLpips is { } l && !measured.Any(MetricKeys.IsLpips))
            yield return new SkippedMetric("realismGate.maxLpips", string.Create(CultureInfo.InvariantCulture, $"not applied (threshold {l}): no item has an LPIPS value"));
        if (gate?.MinEmbeddingSimilarity is { } e && !measured.Any(MetricKeys.IsEmbedding))
            yield return new SkippedMetric("realismGate.minEmbeddingSimilarity", string.Create(CultureInfo.InvariantCulture, $"not applied (threshold {e}): no item has an embedding similarity"));
    }

    /// <summary>"ssim.inside" -> (ssim, inside); "ssim" -> (ssim, patch); "LPIPS[net]" -> (LPIPS[net], patch); "CLIP-I[net]" -> (CLIP-I[net], box).</summary>
    /// <remarks>A "copy&amp;paste/" or "untouched/" prefix names the method (<see cref="ComparisonMethod"/>); "seam", "texture" and "detail" are measured at the box.</remarks>
    private static MetricValue ToMetricValue(string fullKey, double value, IReadOnlyDictionary<string, MetricDefinition> learned)
    {
        var (method, key) = ComparisonMethod.ParseKey(fullKey);
        if (learned.TryGetValue(key, out var def))
            return new MetricValue(key, MetricKeys.IsEmbedding(key) ? "box" : "patch", double.IsFinite(value) ? value : null, def.Version, method);
        int dot = key.IndexOf('.');
        string metric = dot < 0 ? key : key[..dot], region = dot < 0 ? (BaseMetric(metric) is "seam" or "texture" or "detail" ? "box" : "patch") : key[(dot + 1)..];
        string version = BaseMetric(metric) switch
        {
            "ssim" => MetricDefinitions.SsimVersion(PatchMetrics.Ssim),
            "psnr" => MetricDefinitions.PsnrVersion(1.0),
            "mae" => MetricDefinitions.MaeVersion,
            "seam" => MetricDefinitions.SeamVersion(SeamOptions.Default),
            "texture" => MetricDefinitions.TextureVersion(TextureOptions.Default),
            "detail" => MetricDefinitions.DetailVersion(TextureOptions.Default),
            _ => metric + "/1",
        };
        return new MetricValue(metric, region, double.IsFinite(value) ? value : null, version, method);
    }

    private static readonly MetricDefinition[] PixelDefinitions =
        [MetricDefinitions.Ssim(PatchMetrics.Ssim), MetricDefinitions.Psnr(1.0), MetricDefinitions.Mae, MetricDefinitions.Seam(SeamOptions.Default),
         MetricDefinitions.Texture(TextureOptions.Default), MetricDefinitions.Detail(TextureOptions.Default)];

    /// <summary>"{channels}/{metric}" (driving: camera/mae, depth/mae, intensity/mae) is the pixel metric on one group of
    /// channels: its version and direction are the pixel metric's.</summary>
    private static string BaseMetric(string metric) => metric[(metric.LastIndexOf('/') + 1)..];

    /// <summary>Definitions of the channel-group metrics the items hold, named as reported, with the pixel metric's direction.</summary>
    private static IEnumerable<MetricDefinition> ChannelDefinitions(IEnumerable<ItemReport> items) =>
        items.SelectMany(i => i.Metrics).Select(m => m.Metric).Where(m => m.Contains('/')).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(m => (Name: m, Base: PixelDefinitions.FirstOrDefault(d => d.Name == BaseMetric(m))))
            .Where(p => p.Base is not null)
            .Select(p => p.Base! with { Name = p.Name, Description = $"{p.Base!.Description}, {p.Name[..p.Name.LastIndexOf('/')]} channels" });

    private static IReadOnlyDictionary<string, string> LineageMap(WorkItem item, Lineage? l)
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["target"] = item.TargetImage, ["reference"] = item.ReferenceImage, ["seed"] = item.Seed.ToString(CultureInfo.InvariantCulture),
            ["targetBox"] = Box(item.TargetBox), ["referenceBox"] = Box(item.ReferenceBox),
        };
        if (l?.Output is { } o) d["output"] = o;
        return d;
    }

    private static string Box(BoundingBox b) => string.Create(CultureInfo.InvariantCulture, $"{b.X0:0.##},{b.Y0:0.##},{b.X1:0.##},{b.Y1:0.##}");

    private static async Task<IReadOnlyList<ReportImage>> ThumbnailsAsync(RunStore run, string itemId, CancellationToken cancellationToken)
    {
        var prepData = await run.ReadAsync(RunBlobs.PrepTensors(itemId), cancellationToken).ConfigureAwait(false);
        var genData = await run.ReadAsync(RunBlobs.GenTensors(itemId), cancellationToken).ConfigureAwait(false);
        if (prepData is null || genData is null) return [];
        var prep = TensorBundle.Parse(prepData.ToArray(), itemId);
        var gen = TensorBundle.Parse(genData.ToArray(), itemId);
        var original = prep.Get(ModelTensorNames.Original, itemId);
        var result = gen.Get(ModelTensorNames.Sample, itemId);
        // what the output shows: the sample blended into the original with the compositing alpha, when the domain gives it
        if (prep.Contains(ModelTensorNames.CompositeAlpha))
        {
            var alpha = prep.Get(ModelTensorNames.CompositeAlpha, itemId);
            result = result.Select((v, i) => original[i] + alpha[i] * (v - original[i])).ToArray();
        }
        var diff = new float[original.Length];
        for (int i = 0; i < diff.Length; i++) diff[i] = Math.Clamp(Math.Abs(result[i] - original[i]) - 1f, -1f, 1f); // |a-b| in [0,2] -> [-1,1]
        var images = new List<ReportImage>
        {
            Png("original crop", original), Png("masked context", prep.Get(ModelTensorNames.Context, itemId)), Png("reference", prep.Get(ModelTensorNames.Reference, itemId)),
            Png("result", result),
        };
        if (prep.Contains(ModelTensorNames.CopyPaste)) images.Add(Png("copy&paste", prep.Get(ModelTensorNames.CopyPaste, itemId)));
        images.Add(Png("difference", diff));
        return images;
    }

    private static ReportImage Png(string label, float[] model)
    {
        int side = (int)Math.Round(Math.Sqrt(model.Length));
        var display = new float[model.Length];
        ModelSpace.ToDisplay(model, display);
        using var buffer = ImageBuffer.Create(side, side, 1, PixelType.UInt8);
        var p = buffer.Pixels<byte>();
        for (int i = 0; i < p.Length; i++) p[i] = (byte)Math.Clamp(MathF.Round(display[i] * 255f), 0f, 255f);
        return new ReportImage(label, "image/png", PngCodec.Encode(buffer));
    }
}
