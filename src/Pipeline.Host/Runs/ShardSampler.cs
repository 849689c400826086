using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>
/// Diffusion sampling of a run's shards, as a service: the local GPU worker (<see cref="InferenceWorker"/>), the Azure
/// GPU handler and the dry-run estimate use it. The model is opened once per package hash (<see cref="ModelProvider"/>);
/// noise is keyed by (run seed, item seed), so an item's sample does not depend on batching or on which worker ran it.
/// <para>
/// <see cref="SampleShardsAsync"/> samples several shards in one pass: the items of every shard that uses the same
/// model and sampler settings (seed included) go into the same denoiser batches, up to
/// <see cref="InferenceWorkerOptions.MaxBatchSize"/> items each, so four shards of two items fill one batch of eight
/// instead of four half-empty ones. Each shard still gets its own outputs, manifest and outcome.
/// </para>
/// </summary>
public sealed class ShardSampler(PipelineStorage storage, ModelProvider models, IOptions<InferenceWorkerOptions> options, ILogger<ShardSampler> logger)
{
    /// <summary>Samples one shard: its prepared items in batches with the run's sampler settings; writes
    /// runs/{id}/gen/{item}.tensors and the shard's gen manifest. A shard whose manifest exists is only counted.</summary>
    public async Task<InferenceDone> SampleShardAsync(InferenceRequestMessage request, CancellationToken cancellationToken)
    {
        var pass = await SampleShardsAsync([request], cancellationToken).ConfigureAwait(false);
        return pass.Shards[0].Done ?? throw pass.Shards[0].Error!;
    }

    /// <summary>
    /// Samples several shards in one pass (<see cref="SampleShardAsync"/> for each, with items of different shards
    /// sharing denoiser batches where model and sampler settings agree). A shard that cannot be read or written fails
    /// alone: its <see cref="ShardPassOutcome.Error"/> is set and the others go on.
    /// </summary>
    public async Task<ShardPass> SampleShardsAsync(IReadOnlyList<InferenceRequestMessage> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var shards = new PreparedShard?[requests.Count];
        var outcomes = new ShardPassOutcome[requests.Count];
        for (int i = 0; i < requests.Count; i++)
        {
            try
            {
                (shards[i], var existing) = await PrepareAsync(requests[i], cancellationToken).ConfigureAwait(false);
                if (existing is not null) outcomes[i] = new ShardPassOutcome(requests[i], existing, null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                outcomes[i] = new ShardPassOutcome(requests[i], null, e);
            }
        }
        // one group per (model, sampler settings): their items are sampled as one list, batched by the sampler
        var batches = new List<int>();
        foreach (var group in shards.Where(x => x is not null).GroupBy(x => (x!.Package.ManifestSha256, x.Sampling)))
        {
            var members = group.Select(x => x!).ToList();
            var inputs = members.SelectMany(x => x.Ready.Select(r => r.Input)).ToList();
            if (inputs.Count == 0) continue;
            var sampling = group.Key.Sampling;
            var sampler = new InpaintingSampler(models.GetModel(members[0].Package), SchedulerFactory.Create);
            logger.LogInformation("Sampling {Count} items of {Shards} shard(s) ({Runs}) in batches of up to {Batch} ({Steps} steps)",
                inputs.Count, members.Count, string.Join(", ", members.Select(m => $"{m.Request.RunId}#{m.Request.ShardIndex}")), sampling.MaxBatchSize, sampling.Steps);
            IReadOnlyList<float[]>? outputs = null;
            try
            {
                outputs = sampler.Sample(inputs, sampling, cancellationToken);
                for (int done = 0; done < inputs.Count; done += sampling.MaxBatchSize) batches.Add(Math.Min(sampling.MaxBatchSize, inputs.Count - done));
            }
            catch (Exception e) when (e is not (ArgumentException or InvalidDataException) && (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested))
            {
                // the model itself failed (not one item's input): every shard of the group fails this attempt alone
                foreach (var shard in members) shard.Failure = e;
                continue;
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                // one bad item fails its batch: sample one by one so only the bad ones fail (noise is keyed per item,
                // so the good ones come out the same as in the batch)
                logger.LogWarning("Batch of {Count} items failed ({Error}); sampling items one by one", inputs.Count, e.Message);
            }
            int next = 0;
            foreach (var shard in members)
            {
                foreach (var r in shard.Ready)
                {
                    int at = next++;
                    try
                    {
                        r.Sample = outputs?[at] ?? sampler.Sample([r.Input], sampling, cancellationToken)[0];
                        if (outputs is null) batches.Add(1);
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidDataException)
                    {
                        shard.Stages[r.Item.ItemId] = new ItemStage(r.Item.ItemId, Error: $"infer: {ShardDocuments.Reason(e)}");
                    }
                }
            }
        }
        for (int i = 0; i < requests.Count; i++)
        {
            if (shards[i] is not { } shard) continue;
            if (shard.Failure is not null) { outcomes[i] = new ShardPassOutcome(requests[i], null, shard.Failure); continue; }
            try { outcomes[i] = new ShardPassOutcome(requests[i], await WriteAsync(shard, cancellationToken).ConfigureAwait(false), null); }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                outcomes[i] = new ShardPassOutcome(requests[i], null, e);
            }
        }
        return new ShardPass(outcomes, batches);
    }

    /// <summary>A shard's prepared inputs, or (null, its counts) when its gen manifest already exists.</summary>
    private async Task<(PreparedShard? Shard, InferenceDone? Existing)> PrepareAsync(InferenceRequestMessage request, CancellationToken cancellationToken)
    {
        var run = storage.Run(request.RunId);
        string manifestBlob = RunBlobs.GenShard(request.ShardIndex);
        if (await ShardDocuments.ReadManifestAsync(run, manifestBlob, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            var c = ShardDocuments.Count(request.ShardIndex, existing.Items);
            return (null, new InferenceDone(request.ShardIndex, c.Succeeded, c.Failed));
        }
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var shard = await ShardDocuments.ReadPlanAsync(run, new ShardRef(request.ShardIndex, 0, request.ShardBlob), cancellationToken).ConfigureAwait(false);
        var prep = await ShardDocuments.RequireManifestAsync(run, RunBlobs.PrepShard(request.ShardIndex), cancellationToken).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, cancellationToken).ConfigureAwait(false);
        var sampling = RunSamplingOptions.For(plan.Request, package) with { MaxBatchSize = options.Value.MaxBatchSize };
        var prepared = new PreparedShard(request, run, shard, package, sampling);
        foreach (var item in shard.Items)
        {
            var p = prep.Find(item.ItemId);
            if (p is null || p.Error is not null) { prepared.Stages[item.ItemId] = new ItemStage(item.ItemId, Error: p?.Error ?? "preprocess: no result"); continue; }
            try
            {
                var t = TensorBundle.Parse((await run.ReadAsync(RunBlobs.PrepTensors(item.ItemId), cancellationToken).ConfigureAwait(false))!.ToArray(), item.ItemId);
                prepared.Ready.Add(new ReadyItem(item, Input(item, t)));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                prepared.Stages[item.ItemId] = new ItemStage(item.ItemId, Error: $"infer: {ShardDocuments.Reason(e)}");
            }
        }
        return (prepared, null);
    }

    /// <summary>The sampler's input for <paramref name="item"/> from its prepared tensors (prep/{item}.tensors); its
    /// noise is keyed by the item's seed.</summary>
    public static InpaintingItem Input(WorkItem item, TensorBundle tensors) =>
        new((ulong)item.Seed, tensors.Get(ModelTensorNames.Context, item.ItemId), tensors.Get(ModelTensorNames.Mask, item.ItemId),
            tensors.Get(ModelTensorNames.Reference, item.ItemId), tensors.Contains(ModelTensorNames.Detail) ? tensors.Get(ModelTensorNames.Detail, item.ItemId) : null,
            tensors.Contains(ModelTensorNames.Box) ? tensors.Get(ModelTensorNames.Box, item.ItemId) : null);

    /// <summary>Writes the shard's samples (runs/{id}/gen/{item}.tensors) and then its gen manifest.</summary>
    private async Task<InferenceDone> WriteAsync(PreparedShard shard, CancellationToken cancellationToken)
    {
        foreach (var r in shard.Ready)
        {
            if (r.Sample is null) continue; // failed: its stage holds the error
            await shard.Run.WriteIfAbsentAsync(RunBlobs.GenTensors(r.Item.ItemId), BinaryData.FromBytes(new TensorBundle().Add(ModelTensorNames.Sample, r.Sample).ToBytes()),
                "application/octet-stream", cancellationToken).ConfigureAwait(false);
            shard.Stages[r.Item.ItemId] = new ItemStage(r.Item.ItemId);
        }
        var manifest = new ShardManifest(shard.Request.ShardIndex, shard.Plan.Items.Select(i => shard.Stages[i.ItemId]).ToList());
        await shard.Run.WriteJsonIfAbsentAsync(RunBlobs.GenShard(shard.Request.ShardIndex), manifest, cancellationToken).ConfigureAwait(false);
        var count = ShardDocuments.Count(shard.Request.ShardIndex, manifest.Items);
        logger.LogInformation("Run {RunId} shard {Shard}: sampled {Ok} items ({Failed} failed)", shard.Request.RunId, shard.Request.ShardIndex, count.Succeeded, count.Failed);
        return new InferenceDone(shard.Request.ShardIndex, count.Succeeded, count.Failed);
    }

    private sealed class ReadyItem(WorkItem item, InpaintingItem input)
    {
        public WorkItem Item { get; } = item;
        public InpaintingItem Input { get; } = input;
        public float[]? Sample { get; set; }
    }

    private sealed record PreparedShard(InferenceRequestMessage Request, RunStore Run, PlanShard Plan, ModelPackage Package, SamplingOptions Sampling)
    {
        public Dictionary<string, ItemStage> Stages { get; } = new(StringComparer.Ordinal);
        public List<ReadyItem> Ready { get; } = [];
        /// <summary>Why sampling the shard's group failed (the model, not an item), when it did.</summary>
        public Exception? Failure { get; set; }
    }

    /// <summary>
    /// Seconds one item takes per sampler step with <paramref name="sampling"/> on this machine: two placeholder items
    /// of the package's shapes, two steps, timed after one warm-up call of the same shape (the dry run's estimate).
    /// </summary>
    public double SecondsPerItemStep(ModelPackage package, SamplingOptions sampling, CancellationToken cancellationToken)
    {
        var sampler = new InpaintingSampler(models.GetModel(package), SchedulerFactory.Create);
        var items = PlaceholderItems(package, 2);
        var calibration = sampling with { Steps = 2, Progress = null };
        sampler.Sample(items, calibration, cancellationToken);
        var sw = Stopwatch.StartNew();
        sampler.Sample(items, calibration, cancellationToken);
        return sw.Elapsed.TotalSeconds / (2.0 * 2.0);
    }

    /// <summary>Plain inputs of the package's shapes (for calibration).</summary>
    private static IReadOnlyList<InpaintingItem> PlaceholderItems(ModelPackage package, int count)
    {
        int n = package.Resolution * package.Resolution, c = package.ImageChannels, s = package.Reference.Size * package.Reference.Size * package.Reference.Channels;
        return Enumerable.Range(0, count).Select(i =>
        {
            int m = package.Modalities.Count;
            var mask = new float[m * n];
            for (int g = 0; g < m; g++)
                for (int y = package.Resolution / 4; y < 3 * package.Resolution / 4; y++)
                    for (int x = package.Resolution / 4; x < 3 * package.Resolution / 4; x++) mask[g * n + y * package.Resolution + x] = 1;
            return new InpaintingItem((ulong)i + 1, new float[n * c], mask, new float[s], new float[n * c], package.TakesBox ? new float[m * 24] : null);
        }).ToList();
    }
}
