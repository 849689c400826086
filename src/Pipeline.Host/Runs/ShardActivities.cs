using System.Globalization;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Runs.Metrics;
using Pipeline.Imaging.Dicom;
using Pipeline.Metrics;
using Pipeline.Metrics.Pixel;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Runs;

/// <summary>The state of one item after a stage: an error ends the item (it is skipped by later stages).</summary>
public sealed record ItemStage(string ItemId, string? Error = null, CropGeometry? Geometry = null, string? Output = null, string? OutputSha256 = null,
    string? Lineage = null);

/// <summary>A stage's per-item record for one shard (runs/{id}/{stage}/shard-NNNNN.json).</summary>
public sealed record ShardManifest(int Index, IReadOnlyList<ItemStage> Items)
{
    public ItemStage? Find(string itemId) => Items.FirstOrDefault(i => i.ItemId == itemId);
}

/// <summary>Reading and writing the run's shard documents, shared by the stage activities and the GPU worker.</summary>
public static class ShardDocuments
{
    public static async Task<PlanShard> ReadPlanAsync(RunStore run, ShardRef shard, CancellationToken ct) =>
        (await run.ReadJsonAsync<PlanShard>(shard.Blob, ct).ConfigureAwait(false))?.Value
        ?? throw new InvalidOperationException($"run {run.RunId}: plan shard {shard.Blob} is missing");

    public static async Task<RunPlan> ReadRunPlanAsync(RunStore run, CancellationToken ct) =>
        (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan, ct).ConfigureAwait(false))?.Value
        ?? throw new InvalidOperationException($"run {run.RunId}: plan.json is missing");

    /// <summary>The counts of a stage that already finished this shard (a replayed or redelivered call), else null.</summary>
    public static async Task<ShardStageResult?> FinishedAsync(RunStore run, string manifestBlob, int index, CancellationToken ct) =>
        await ReadManifestAsync(run, manifestBlob, ct).ConfigureAwait(false) is { } done ? Count(index, done.Items) : null;

    public static async Task<ShardManifest?> ReadManifestAsync(RunStore run, string blob, CancellationToken ct) =>
        (await run.ReadJsonAsync<ShardManifest>(blob, ct).ConfigureAwait(false))?.Value;

    public static async Task<ShardManifest> RequireManifestAsync(RunStore run, string blob, CancellationToken ct) =>
        await ReadManifestAsync(run, blob, ct).ConfigureAwait(false)
        ?? throw new InvalidOperationException($"run {run.RunId}: {blob} is missing (the previous stage did not finish)");

    /// <summary>Short, single-line reason for an item failure.</summary>
    public static string Reason(Exception e) => $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");

    public static ShardStageResult Count(int index, IEnumerable<ItemStage> items)
    {
        int ok = 0, failed = 0;
        foreach (var i in items) { if (i.Error is null) ok++; else failed++; }
        return new ShardStageResult(index, ok, failed);
    }
}

/// <summary>
/// Preprocess: for each item decode target and reference, cut the zoom-in crop, mask, masked context, reference crop and
/// HF collage (docs/preprocessing.md) at the model's resolution, and write them as runs/{id}/prep/{item}.tensors.
/// A bad image fails only its item, with the reason.
/// </summary>
public sealed class PreprocessActivity(PipelineStorage storage, ModelProvider models) : Activity<ShardStageInput, ShardStageResult>
{
    public override string Name => RunActivityNames.Preprocess;

    public override async Task<ShardStageResult> RunAsync(ShardStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        string manifestBlob = RunBlobs.PrepShard(input.Shard.Index);
        if (await ShardDocuments.FinishedAsync(run, manifestBlob, input.Shard.Index, cancellationToken).ConfigureAwait(false) is { } finished)
            return finished;
        var shard = await ShardDocuments.ReadPlanAsync(run, input.Shard, cancellationToken).ConfigureAwait(false);
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, cancellationToken).ConfigureAwait(false);
        var stages = new List<ItemStage>();
        foreach (var item in shard.Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var target = await DecodeAsync(item.TargetImage, cancellationToken).ConfigureAwait(false);
                using var reference = item.ReferenceImage == item.TargetImage ? null : await DecodeAsync(item.ReferenceImage, cancellationToken).ConfigureAwait(false);
                var (tensors, geometry) = ItemImaging.Prepare(item, target, reference ?? target, package.Resolution, package.Reference.Size);
                await run.WriteIfAbsentAsync(RunBlobs.PrepTensors(item.ItemId), BinaryData.FromBytes(tensors.ToBytes()), "application/octet-stream", cancellationToken).ConfigureAwait(false);
                stages.Add(new ItemStage(item.ItemId, Geometry: geometry));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                stages.Add(new ItemStage(item.ItemId, Error: $"preprocess: {ShardDocuments.Reason(e)}"));
            }
        }
        await run.WriteJsonIfAbsentAsync(manifestBlob, new ShardManifest(input.Shard.Index, stages), cancellationToken).ConfigureAwait(false);
        return ShardDocuments.Count(input.Shard.Index, stages);
    }

    private async Task<SourceImage> DecodeAsync(string blob, CancellationToken ct)
    {
        var data = await storage.ReadAsync(BlobPath.Parse(blob), ct).ConfigureAwait(false)
                   ?? throw new FileNotFoundException($"{blob} does not exist");
        return SourceImage.Decode(data.ToMemory(), blob);
    }
}

/// <summary>RequestInference: puts the shard on the "inference-requests" queue for the GPU worker role.</summary>
public sealed class RequestInferenceActivity(PipelineStorage storage) : Activity<InferenceRequestInput, bool>
{
    public override string Name => RunActivityNames.RequestInference;

    public override async Task<bool> RunAsync(InferenceRequestInput input, CancellationToken cancellationToken)
    {
        var message = new InferenceRequestMessage(input.RunId, input.InstanceId, input.Shard.Index, input.Shard.Blob, input.Attempt);
        await QueueMessages.SendAsync(storage.Queue(StorageLayout.InferenceRequestsQueue), PipelineJson.SerializeToUtf8Bytes(message), cancellationToken).ConfigureAwait(false);
        return true;
    }
}

/// <summary>
/// Compose: pastes each generated crop back into the full-resolution target (feathered, exact outside box + margin, in
/// the source's bit depth) and writes a derived DICOM with the sample's lineage, plus the lineage JSON.
/// UIDs derive from the run id and item id, so a rerun of the same request writes the same bytes.
/// </summary>
public sealed class ComposeActivity(PipelineStorage storage, ModelProvider models) : Activity<ShardStageInput, ShardStageResult>
{
    public override string Name => RunActivityNames.Compose;

    public override async Task<ShardStageResult> RunAsync(ShardStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        string manifestBlob = RunBlobs.ComposeShard(input.Shard.Index);
        if (await ShardDocuments.FinishedAsync(run, manifestBlob, input.Shard.Index, cancellationToken).ConfigureAwait(false) is { } finished)
            return finished;
        var shard = await ShardDocuments.ReadPlanAsync(run, input.Shard, cancellationToken).ConfigureAwait(false);
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, cancellationToken).ConfigureAwait(false);
        var prep = await ShardDocuments.RequireManifestAsync(run, RunBlobs.PrepShard(input.Shard.Index), cancellationToken).ConfigureAwait(false);
        var gen = await ShardDocuments.RequireManifestAsync(run, RunBlobs.GenShard(input.Shard.Index), cancellationToken).ConfigureAwait(false);
        var sampler = InferenceWorker.SamplingFor(plan.Request, package);
        var deidentify = plan.Request.Output?.Deidentify ?? true;
        var stages = new List<ItemStage>();
        foreach (var item in shard.Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var p = prep.Find(item.ItemId);
            var g = gen.Find(item.ItemId);
            string? earlier = p?.Error ?? g?.Error ?? (p is null || g is null ? "no result from an earlier stage" : null);
            if (earlier is not null) { stages.Add(new ItemStage(item.ItemId, Error: earlier)); continue; }
            try
            {
                var generated = TensorBundle.Parse((await run.ReadAsync(RunBlobs.GenTensors(item.ItemId), cancellationToken).ConfigureAwait(false))!.ToArray(), item.ItemId).Get("sample", item.ItemId);
                var sourceBytes = (await storage.ReadAsync(BlobPath.Parse(item.TargetImage), cancellationToken).ConfigureAwait(false))
                                  ?? throw new FileNotFoundException($"{item.TargetImage} does not exist");
                using var target = SourceImage.Decode(sourceBytes.ToMemory(), item.TargetImage);
                using var composed = ItemImaging.Compose(target, generated, p!.Geometry!, item.TargetBox);
                string outBlob = RunBlobs.OutputImage(item.ItemId, ".dcm");
                var lineage = new Lineage
                {
                    RunId = input.RunId, ItemId = item.ItemId, Mode = item.Mode,
                    SourceImage = item.TargetImage, SourceImageSha256 = Sha256(sourceBytes.ToArray()),
                    ReferenceImage = item.ReferenceImage, ReferenceBox = item.ReferenceBox, TargetBox = item.TargetBox,
                    ClassName = item.ClassName, Model = new ModelIdentity(plan.Model, package.ManifestSha256), Seed = item.Seed,
                    Sampler = new SamplerSettings
                    {
                        Scheduler = Enum.Parse<SchedulerKind>(sampler.Scheduler!, ignoreCase: true), Steps = sampler.Steps,
                        Guidance = sampler.GuidanceScale, Eta = sampler.Eta,
                    },
                    Output = $"runs/{input.RunId}/{outBlob}",
                };
                var options = new DerivedImageOptions
                {
                    Lineage = lineage,
                    SopInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:{item.ItemId}:sop"),
                    SeriesInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:series"),
                    Deidentify = deidentify ? new DicomUidRemapper(input.RunId) : null,
                };
                var derived = DerivedImageWriter.Create(target.Dicom.File, composed, options);
                var bytes = DicomFileWriter.ToBytes(derived);
                var written = await run.WriteIfAbsentAsync(outBlob, BinaryData.FromBytes(bytes), "application/dicom", cancellationToken).ConfigureAwait(false);
                var lineageBlob = RunBlobs.OutputLineage(item.ItemId);
                await run.WriteJsonIfAbsentAsync(lineageBlob, lineage with { OutputSha256 = written.Sha256 }, cancellationToken).ConfigureAwait(false);
                stages.Add(new ItemStage(item.ItemId, Geometry: p.Geometry, Output: $"runs/{input.RunId}/{outBlob}", OutputSha256: written.Sha256,
                    Lineage: $"runs/{input.RunId}/{lineageBlob}"));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                stages.Add(new ItemStage(item.ItemId, Error: $"compose: {ShardDocuments.Reason(e)}"));
            }
        }
        await run.WriteJsonIfAbsentAsync(manifestBlob, new ShardManifest(input.Shard.Index, stages), cancellationToken).ConfigureAwait(false);
        return ShardDocuments.Count(input.Shard.Index, stages);
    }

    private static string Sha256(byte[] data) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
}

/// <summary>
/// Measure: per item, metrics between the generated crop and the original target crop in display space [0, 1] (the
/// thesis's patch around the object): SSIM and PSNR on the whole patch, inside the box and outside it (outside measures
/// how well the background was kept; inside, for reinsertion, how close the regenerated lesion is to the real one).
/// With feature networks configured (Pipeline:Metrics) and requested, also LPIPS[name] on the patch, the embedding
/// similarity CLIP-I[name] / DINOv2[name] of the generated box region to the reference crop, and the patch features
/// for FD/KID (runs/{id}/features/{item}.json; see <see cref="FeatureMetrics"/>).
/// Applies the realism gate and writes runs/{id}/items/{item}.json (the item's final <see cref="ItemResult"/>).
/// </summary>
public sealed class MeasureActivity(PipelineStorage storage, RunFeatureNetworks networks) : Activity<ShardStageInput, ShardStageResult>
{
    public override string Name => RunActivityNames.Measure;

    public override async Task<ShardStageResult> RunAsync(ShardStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        var shard = await ShardDocuments.ReadPlanAsync(run, input.Shard, cancellationToken).ConfigureAwait(false);
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var compose = await ShardDocuments.RequireManifestAsync(run, RunBlobs.ComposeShard(input.Shard.Index), cancellationToken).ConfigureAwait(false);
        var gate = plan.Request.RealismGate;
        bool drop = plan.Request.Output?.DropFlagged ?? false;
        var selection = RunMetricSelection.Resolve(plan.Request.Metrics, networks);
        int ok = 0, failed = 0;
        foreach (var item in shard.Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A replay after a crash keeps what was measured: learned metrics need not be bit-reproducible across
            // processes, and write-if-absent would reject a differing second value.
            if (await run.ReadJsonAsync<ItemResult>(RunBlobs.ItemResult(item.ItemId), cancellationToken).ConfigureAwait(false) is { } measured)
            {
                if (measured.Value.Outcome == ItemOutcome.Failed) failed++; else ok++;
                continue;
            }
            var c = compose.Find(item.ItemId);
            ItemResult result;
            if (c is null || c.Error is not null)
                result = new ItemResult { ItemId = item.ItemId, Outcome = ItemOutcome.Failed, Error = c?.Error ?? "compose: no result" };
            else
            {
                try
                {
                    var prep = TensorBundle.Parse((await run.ReadAsync(RunBlobs.PrepTensors(item.ItemId), cancellationToken).ConfigureAwait(false))!.ToArray(), item.ItemId);
                    var gen = TensorBundle.Parse((await run.ReadAsync(RunBlobs.GenTensors(item.ItemId), cancellationToken).ConfigureAwait(false))!.ToArray(), item.ItemId);
                    var original = prep.Get("original", item.ItemId);
                    var sample = gen.Get("sample", item.ItemId);
                    var metrics = new SortedDictionary<string, double>(
                        ItemMetrics.Compute(original, sample, prep.Get("mask", item.ItemId), c.Geometry!.Resolution).ToDictionary(), StringComparer.Ordinal);
                    // Learned metrics (LPIPS, embedding similarity, FD/KID features) as the request and Pipeline:Metrics select.
                    var features = FeatureMetrics.MeasureItem(item.ItemId, item.ClassName, item.Mode.ToString().ToLowerInvariant(),
                        ItemMetrics.ToDisplay(original), ItemMetrics.ToDisplay(sample), ItemMetrics.ToDisplay(prep.Get("reference", item.ItemId)),
                        c.Geometry, selection, networks, metrics, cancellationToken);
                    if ((features.Definitions.Count > 0 || features.FeatureModel is not null) &&
                        await run.ReadJsonAsync<ItemFeatureRecord>(MetricsBlobs.ItemFeatures(item.ItemId), cancellationToken).ConfigureAwait(false) is null)
                        await run.WriteJsonIfAbsentAsync(MetricsBlobs.ItemFeatures(item.ItemId), features, cancellationToken).ConfigureAwait(false);
                    var flags = RealismGateCheck.Evaluate(gate, metrics);
                    var outcome = flags.Count == 0 ? ItemOutcome.Succeeded : drop ? ItemOutcome.Dropped : ItemOutcome.Flagged;
                    result = new ItemResult
                    {
                        ItemId = item.ItemId, Outcome = outcome, Output = outcome == ItemOutcome.Dropped ? null : c.Output,
                        OutputSha256 = outcome == ItemOutcome.Dropped ? null : c.OutputSha256, Lineage = c.Lineage, Metrics = metrics, Flags = flags,
                    };
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    result = new ItemResult { ItemId = item.ItemId, Outcome = ItemOutcome.Failed, Error = $"measure: {ShardDocuments.Reason(e)}" };
                }
            }
            if (result.Outcome == ItemOutcome.Failed) failed++; else ok++;
            await run.WriteJsonIfAbsentAsync(RunBlobs.ItemResult(item.ItemId), result, cancellationToken).ConfigureAwait(false);
        }
        return new ShardStageResult(input.Shard.Index, ok, failed);
    }
}

/// <summary>Per-item pixel metrics on the model-resolution patch (display space, data range 1).</summary>
public static class ItemMetrics
{
    public static readonly SsimOptions Ssim = new(1.0);

    public static IReadOnlyDictionary<string, double> Compute(float[] originalModel, float[] generatedModel, float[] mask, int resolution)
    {
        var a = ToDisplay(originalModel);
        var b = ToDisplay(generatedModel);
        var m = new byte[mask.Length];
        for (int i = 0; i < m.Length; i++) m[i] = mask[i] > 0.5f ? (byte)1 : (byte)0;
        var shape = new PlaneShape(resolution, resolution);
        var ssim = StructuralSimilarity.Compute(a, b, shape, Ssim, m);
        var err = PixelError.Compute(a, b, shape, 1.0, m);
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

    public static float[] ToDisplay(float[] model)
    {
        var d = new float[model.Length];
        Pipeline.Imaging.Preprocessing.ModelSpace.ToDisplay(model, d);
        return d;
    }
}

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
        // LPIPS[name] and CLIP-I[name] / DINOv2[name] keys (FeatureMetrics); absent when not computed, which the report's
        // skipped list states (an unmeasured item is not flagged).
        if (gate.MaxLpips is { } l)
            foreach (var (key, lp) in m.Where(p => FeatureMetrics.IsLpipsKey(p.Key) && p.Value > l))
                flags.Add(string.Create(CultureInfo.InvariantCulture, $"{key} {lp:0.####} > maxLpips {l}"));
        // minEmbeddingSimilarity is a cosine in [-1, 1] (schemas/augmentation-request.schema.json); the metric is reported x100.
        if (gate.MinEmbeddingSimilarity is { } e)
            foreach (var (key, em) in m.Where(p => FeatureMetrics.IsEmbeddingKey(p.Key) && p.Value / 100 < e))
                flags.Add(string.Create(CultureInfo.InvariantCulture, $"{key} {em:0.##} (cosine {em / 100:0.####}) < minEmbeddingSimilarity {e}"));
        return flags;
    }
}

/// <summary>RecordShardFailure: a shard stage failed after retries; every item of the shard without a result is recorded as failed.</summary>
public sealed class RecordShardFailureActivity(PipelineStorage storage) : Activity<ShardStageInput, ShardStageResult>
{
    public override string Name => RunActivityNames.RecordShardFailure;

    public override async Task<ShardStageResult> RunAsync(ShardStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        var shard = await ShardDocuments.ReadPlanAsync(run, input.Shard, cancellationToken).ConfigureAwait(false);
        int ok = 0, failed = 0;
        foreach (var item in shard.Items)
        {
            var existing = await run.ReadJsonAsync<ItemResult>(RunBlobs.ItemResult(item.ItemId), cancellationToken).ConfigureAwait(false);
            if (existing is not null) { if (existing.Value.Outcome == ItemOutcome.Failed) failed++; else ok++; continue; }
            await run.WriteJsonIfAbsentAsync(RunBlobs.ItemResult(item.ItemId),
                new ItemResult { ItemId = item.ItemId, Outcome = ItemOutcome.Failed, Error = input.Reason ?? "the shard failed" }, cancellationToken).ConfigureAwait(false);
            failed++;
        }
        return new ShardStageResult(input.Shard.Index, ok, failed);
    }
}
