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
/// </summary>
public sealed class ShardSampler(PipelineStorage storage, ModelProvider models, IOptions<InferenceWorkerOptions> options, ILogger<ShardSampler> logger)
{
    /// <summary>Samples one shard: its prepared items in batches with the run's sampler settings; writes
    /// runs/{id}/gen/{item}.tensors and the shard's gen manifest. A shard whose manifest exists is only counted.</summary>
    public async Task<InferenceDone> SampleShardAsync(InferenceRequestMessage request, CancellationToken cancellationToken)
    {
        var run = storage.Run(request.RunId);
        string manifestBlob = RunBlobs.GenShard(request.ShardIndex);
        if (await ShardDocuments.ReadManifestAsync(run, manifestBlob, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            var c = ShardDocuments.Count(request.ShardIndex, existing.Items);
            return new InferenceDone(request.ShardIndex, c.Succeeded, c.Failed);
        }
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var shard = await ShardDocuments.ReadPlanAsync(run, new ShardRef(request.ShardIndex, 0, request.ShardBlob), cancellationToken).ConfigureAwait(false);
        var prep = await ShardDocuments.RequireManifestAsync(run, RunBlobs.PrepShard(request.ShardIndex), cancellationToken).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, cancellationToken).ConfigureAwait(false);
        var sampler = new InpaintingSampler(models.GetModel(package), SchedulerFactory.Create);
        var sampling = RunSamplingOptions.For(plan.Request, package) with { MaxBatchSize = options.Value.MaxBatchSize };

        var stages = new Dictionary<string, ItemStage>(StringComparer.Ordinal);
        var ready = new List<(WorkItem Item, InpaintingItem Input)>();
        foreach (var item in shard.Items)
        {
            var p = prep.Find(item.ItemId);
            if (p is null || p.Error is not null) { stages[item.ItemId] = new ItemStage(item.ItemId, Error: p?.Error ?? "preprocess: no result"); continue; }
            try
            {
                var t = TensorBundle.Parse((await run.ReadAsync(RunBlobs.PrepTensors(item.ItemId), cancellationToken).ConfigureAwait(false))!.ToArray(), item.ItemId);
                ready.Add((item, new InpaintingItem((ulong)item.Seed, t.Get(ModelTensorNames.Context, item.ItemId), t.Get(ModelTensorNames.Mask, item.ItemId),
                    t.Get(ModelTensorNames.Reference, item.ItemId), t.Contains(ModelTensorNames.Detail) ? t.Get(ModelTensorNames.Detail, item.ItemId) : null,
                    t.Contains(ModelTensorNames.Box) ? t.Get(ModelTensorNames.Box, item.ItemId) : null)));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                stages[item.ItemId] = new ItemStage(item.ItemId, Error: $"infer: {ShardDocuments.Reason(e)}");
            }
        }

        IReadOnlyList<float[]>? outputs = null;
        if (ready.Count > 0)
        {
            logger.LogInformation("Run {RunId} shard {Shard}: sampling {Count} items ({Steps} steps)", request.RunId, request.ShardIndex, ready.Count, sampling.Steps);
            try { outputs = sampler.Sample(ready.Select(r => r.Input).ToList(), sampling, cancellationToken); }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                // one bad item fails the batch: sample one by one so only the bad ones fail (noise is keyed per item,
                // so the good ones come out the same as in the batch)
                logger.LogWarning("Run {RunId} shard {Shard}: batch failed ({Error}); sampling items one by one", request.RunId, request.ShardIndex, e.Message);
            }
        }
        for (int i = 0; i < ready.Count; i++)
        {
            var (item, input) = ready[i];
            float[] sample;
            try { sample = outputs?[i] ?? sampler.Sample([input], sampling, cancellationToken)[0]; }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                stages[item.ItemId] = new ItemStage(item.ItemId, Error: $"infer: {ShardDocuments.Reason(e)}");
                continue;
            }
            await run.WriteIfAbsentAsync(RunBlobs.GenTensors(item.ItemId), BinaryData.FromBytes(new TensorBundle().Add(ModelTensorNames.Sample, sample).ToBytes()),
                "application/octet-stream", cancellationToken).ConfigureAwait(false);
            stages[item.ItemId] = new ItemStage(item.ItemId);
        }
        var manifest = new ShardManifest(request.ShardIndex, shard.Items.Select(i => stages[i.ItemId]).ToList());
        await run.WriteJsonIfAbsentAsync(manifestBlob, manifest, cancellationToken).ConfigureAwait(false);
        var count = ShardDocuments.Count(request.ShardIndex, manifest.Items);
        logger.LogInformation("Run {RunId} shard {Shard}: sampled {Ok} items ({Failed} failed)", request.RunId, request.ShardIndex, count.Succeeded, count.Failed);
        return new InferenceDone(request.ShardIndex, count.Succeeded, count.Failed);
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
