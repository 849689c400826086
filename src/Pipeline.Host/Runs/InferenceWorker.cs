using System.Text;
using System.Text.Json;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Runs;

/// <summary>Tuning of the GPU-worker role.</summary>
public sealed class InferenceWorkerOptions
{
    /// <summary>Whether this process consumes "inference-requests" (the GPU role; on by default in the local host).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>How long a received shard stays invisible to other workers; renewed every
    /// <see cref="VisibilityRenewInterval"/> while the shard is sampled, so a shard of any length is never redelivered
    /// while its worker lives, and one whose worker died is picked up by another worker within this time.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>How often the visibility of the shard being sampled is extended (well under <see cref="VisibilityTimeout"/>).</summary>
    public TimeSpan VisibilityRenewInterval { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Dequeues after which a message goes to inference-requests-poison (as Functions' maxDequeueCount).</summary>
    public int MaxDequeueCount { get; set; } = 5;
    /// <summary>Items per denoiser batch (CFG doubles the rows).</summary>
    public int MaxBatchSize { get; set; } = 8;
}

/// <summary>
/// The GPU-worker role: consumes "inference-requests", loads the model once per package hash, samples the shard's items
/// in batches with the run's sampler settings, writes runs/{id}/gen/{item}.tensors and the shard's gen manifest, then
/// raises the shard's done event to the waiting orchestration. Idempotent: a redelivered shard whose manifest exists
/// only raises the event again. Several workers (threads or processes) can consume the queue at once.
/// </summary>
public sealed class InferenceWorker(PipelineStorage storage, ModelProvider models, IOrchestrationClient orchestrations,
    InferenceWorkerOptions options, ILogger<InferenceWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = storage.Queue(StorageLayout.InferenceRequestsQueue);
        var backoff = options.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var received = await queue.ReceiveMessagesAsync(1, options.VisibilityTimeout, stoppingToken).ConfigureAwait(false);
                backoff = options.PollInterval;
                if (received.Value.Length == 0) { await Task.Delay(options.PollInterval, stoppingToken).ConfigureAwait(false); continue; }
                foreach (var message in received.Value)
                {
                    // the lease on the message: its visibility is extended while the shard is sampled
                    await using var lease = new QueueMessageLease(queue, message, options.VisibilityTimeout, options.VisibilityRenewInterval, logger);
                    await HandleAsync(message, stoppingToken).ConfigureAwait(false);
                    await lease.DeleteAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                // storage unreachable (e.g. Azurite restarting) or a transient failure: back off, never crash-loop;
                // the message becomes visible again after its timeout and is retried.
                logger.LogWarning(e, "Inference worker: {Error}; retrying in {Delay}", e.Message, backoff);
                try { await Task.Delay(backoff, stoppingToken).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private async Task HandleAsync(QueueMessage message, CancellationToken ct)
    {
        InferenceRequestMessage request;
        try
        {
            request = PipelineJson.Deserialize<InferenceRequestMessage>(QueueMessages.Decode(message), "inference request");
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            await PoisonAsync(message, $"malformed message: {e.Message}", ct).ConfigureAwait(false);
            return;
        }
        if (message.DequeueCount > options.MaxDequeueCount)
        {
            string reason = $"shard {request.ShardIndex} of run {request.RunId} failed {options.MaxDequeueCount} times";
            await PoisonAsync(message, reason, ct).ConfigureAwait(false);
            await RaiseAsync(request, new InferenceDone(request.ShardIndex, 0, 0, reason), ct).ConfigureAwait(false);
            return;
        }
        var done = await ProcessShardAsync(request, ct).ConfigureAwait(false);
        await RaiseAsync(request, done, ct).ConfigureAwait(false);
    }

    /// <summary>Samples one shard (also used in-process by tests and the benchmark).</summary>
    public async Task<InferenceDone> ProcessShardAsync(InferenceRequestMessage request, CancellationToken ct)
    {
        var run = storage.Run(request.RunId);
        string manifestBlob = RunBlobs.GenShard(request.ShardIndex);
        if (await ShardDocuments.ReadManifestAsync(run, manifestBlob, ct).ConfigureAwait(false) is { } existing)
        {
            var c = ShardDocuments.Count(request.ShardIndex, existing.Items);
            return new InferenceDone(request.ShardIndex, c.Succeeded, c.Failed);
        }
        var plan = await ShardDocuments.ReadRunPlanAsync(run, ct).ConfigureAwait(false);
        var shard = await ShardDocuments.ReadPlanAsync(run, new ShardRef(request.ShardIndex, 0, request.ShardBlob), ct).ConfigureAwait(false);
        var prep = await ShardDocuments.RequireManifestAsync(run, RunBlobs.PrepShard(request.ShardIndex), ct).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, ct).ConfigureAwait(false);
        var sampler = new InpaintingSampler(models.GetModel(package), SchedulerFactory.Create);
        var sampling = SamplingFor(plan.Request, package) with { MaxBatchSize = options.MaxBatchSize };

        var stages = new Dictionary<string, ItemStage>(StringComparer.Ordinal);
        var ready = new List<(WorkItem Item, InpaintingItem Input)>();
        foreach (var item in shard.Items)
        {
            var p = prep.Find(item.ItemId);
            if (p is null || p.Error is not null) { stages[item.ItemId] = new ItemStage(item.ItemId, Error: p?.Error ?? "preprocess: no result"); continue; }
            try
            {
                var t = TensorBundle.Parse((await run.ReadAsync(RunBlobs.PrepTensors(item.ItemId), ct).ConfigureAwait(false))!.ToArray(), item.ItemId);
                ready.Add((item, new InpaintingItem((ulong)item.Seed, t.Get("context", item.ItemId), t.Get("mask", item.ItemId),
                    t.Get("reference", item.ItemId), t.Get("detail", item.ItemId))));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                stages[item.ItemId] = new ItemStage(item.ItemId, Error: $"infer: {ShardDocuments.Reason(e)}");
            }
        }

        IReadOnlyList<float[]>? outputs = null;
        if (ready.Count > 0)
        {
            try { outputs = sampler.Sample(ready.Select(r => r.Input).ToList(), sampling, ct); }
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
            try { sample = outputs?[i] ?? sampler.Sample([input], sampling, ct)[0]; }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                stages[item.ItemId] = new ItemStage(item.ItemId, Error: $"infer: {ShardDocuments.Reason(e)}");
                continue;
            }
            await run.WriteIfAbsentAsync(RunBlobs.GenTensors(item.ItemId), BinaryData.FromBytes(new TensorBundle().Add("sample", sample).ToBytes()),
                "application/octet-stream", ct).ConfigureAwait(false);
            stages[item.ItemId] = new ItemStage(item.ItemId);
        }
        var manifest = new ShardManifest(request.ShardIndex, shard.Items.Select(i => stages[i.ItemId]).ToList());
        await run.WriteJsonIfAbsentAsync(manifestBlob, manifest, ct).ConfigureAwait(false);
        var count = ShardDocuments.Count(request.ShardIndex, manifest.Items);
        logger.LogInformation("Run {RunId} shard {Shard}: sampled {Ok} items ({Failed} failed)", request.RunId, request.ShardIndex, count.Succeeded, count.Failed);
        return new InferenceDone(request.ShardIndex, count.Succeeded, count.Failed);
    }

    private Task RaiseAsync(InferenceRequestMessage request, InferenceDone done, CancellationToken ct) =>
        orchestrations.RaiseEventAsync(request.InstanceId, RunActivityNames.InferenceDoneEvent(request.ShardIndex), done, ct);

    private async Task PoisonAsync(QueueMessage message, string reason, CancellationToken ct)
    {
        logger.LogError("Inference request {MessageId} moved to poison: {Reason}", message.MessageId, reason);
        var body = JsonSerializer.Serialize(new { reason, message = message.MessageText, dequeueCount = message.DequeueCount });
        await QueueMessages.SendAsync(storage.Queue(StorageLayout.InferenceRequestsPoisonQueue), Encoding.UTF8.GetBytes(body), ct).ConfigureAwait(false);
    }

    /// <summary>The run's sampler settings with the model package's defaults filled in.</summary>
    public static SamplingOptions SamplingFor(AugmentationRequest request, ModelPackage package) => new()
    {
        Scheduler = request.Sampler?.Scheduler?.ToString().ToLowerInvariant() ?? package.Sampler.Scheduler,
        Steps = request.Sampler?.Steps ?? package.Sampler.Steps,
        GuidanceScale = request.Sampler?.Guidance ?? package.Guidance.Scale,
        Eta = request.Sampler?.Eta ?? package.Sampler.Eta,
        Seed = (ulong)request.Seed,
    };

    /// <summary>Plain inputs of the package's shapes (for calibration).</summary>
    public static IReadOnlyList<InpaintingItem> DummyItems(ModelPackage package, int count)
    {
        int n = package.Resolution * package.Resolution, c = package.ImageChannels, s = package.Reference.Size * package.Reference.Size * package.Reference.Channels;
        return Enumerable.Range(0, count).Select(i =>
        {
            var mask = new float[n];
            for (int y = package.Resolution / 4; y < 3 * package.Resolution / 4; y++)
                for (int x = package.Resolution / 4; x < 3 * package.Resolution / 4; x++) mask[y * package.Resolution + x] = 1;
            return new InpaintingItem((ulong)i + 1, new float[n * c], mask, new float[s], new float[n * c]);
        }).ToList();
    }
}
