using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Host.Runs;
using Pipeline.Host.Tests.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Queues;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.Runs;

/// <summary>
/// The GPU worker samples the shards of the messages it receives together in one pass, items of different shards in
/// the same denoiser batches. An item's sample must not depend on which items share its batch: noise is keyed by
/// (run seed, item seed), so each item must come out byte for byte as when its shard is sampled alone, or one item at
/// a time. Runs are written directly (plan, shard plans, prepared tensors) for the tiny 16 px test model.
/// </summary>
public sealed class CrossShardBatchingTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly string Model = Path.Combine(RepoRoot(), "training", "test_models", "pixel_inpaint");
    private static readonly int[] ShardSizes = [3, 2, 3];

    [Fact]
    public async Task Items_of_several_shards_share_batches_and_come_out_as_when_each_shard_is_sampled_alone()
    {
        var storage = azurite.Storage;
        await WriteRunAsync(storage, "xbatch-together", seed: 7, ShardSizes);
        await WriteRunAsync(storage, "xbatch-alone", seed: 7, ShardSizes);
        await WriteRunAsync(storage, "xbatch-single", seed: 7, ShardSizes);
        await WriteRunAsync(storage, "xbatch-other-seed", seed: 8, [3]);
        using var models = new ModelProvider(storage, Options.Create(new ModelProviderOptions()));

        // one pass: the three shards of the seed-7 run and a shard of a seed-8 run, batches of at most 4 items
        var together = Sampler(storage, models, maxBatch: 4);
        var pass = await together.SampleShardsAsync(
            [Request("xbatch-together", 0), Request("xbatch-together", 1), Request("xbatch-other-seed", 0), Request("xbatch-together", 2)], CancellationToken.None);
        Assert.All(pass.Shards, s => Assert.Null(s.Error));
        Assert.Equal([3, 2, 3, 3], pass.Shards.Select(s => s.Done!.Succeeded));
        // the seed-7 run's 8 items fill two batches of 4 (alone its shards would make batches of 3, 2 and 3); the
        // seed-8 shard has other sampler settings (its seed) and is batched apart
        Assert.Equal([4, 4, 3], pass.Batches);

        // the same shards one at a time, and one item per batch
        var alone = Sampler(storage, models, maxBatch: 4);
        var single = Sampler(storage, models, maxBatch: 1);
        for (int s = 0; s < ShardSizes.Length; s++)
        {
            Assert.Equal(ShardSizes[s], (await alone.SampleShardAsync(Request("xbatch-alone", s), CancellationToken.None)).Succeeded);
            Assert.Equal(ShardSizes[s], (await single.SampleShardAsync(Request("xbatch-single", s), CancellationToken.None)).Succeeded);
        }
        foreach (string item in ItemIds(ShardSizes))
        {
            byte[] a = await GenAsync(storage, "xbatch-together", item);
            Assert.Equal(a, await GenAsync(storage, "xbatch-alone", item));
            Assert.Equal(a, await GenAsync(storage, "xbatch-single", item));
        }
        // the seed is part of the noise's key: the seed-8 run's first items differ from the seed-7 run's
        Assert.NotEqual(await GenAsync(storage, "xbatch-together", "i00-0"), await GenAsync(storage, "xbatch-other-seed", "i00-0"));
    }

    [Fact]
    public async Task A_shard_that_cannot_be_read_fails_alone_and_a_finished_shard_is_only_counted()
    {
        var storage = azurite.Storage;
        await WriteRunAsync(storage, "xbatch-mixed", seed: 3, [2, 2]);
        await WriteRunAsync(storage, "xbatch-unprepared", seed: 3, [2], prepared: false);
        using var models = new ModelProvider(storage, Options.Create(new ModelProviderOptions()));
        var sampler = Sampler(storage, models, maxBatch: 8);
        Assert.Equal(2, (await sampler.SampleShardAsync(Request("xbatch-mixed", 0), CancellationToken.None)).Succeeded);
        byte[] first = await GenAsync(storage, "xbatch-mixed", "i00-0");

        var pass = await sampler.SampleShardsAsync(
            [Request("xbatch-unprepared", 0), Request("xbatch-mixed", 0), Request("xbatch-mixed", 1)], CancellationToken.None);
        var error = Assert.IsType<InvalidOperationException>(pass.Shards[0].Error);
        Assert.Contains("prep/shard-00000.json is missing", error.Message);
        Assert.Equal(new InferenceDone(0, 2, 0), pass.Shards[1].Done);
        Assert.Equal(new InferenceDone(1, 2, 0), pass.Shards[2].Done);
        Assert.Equal([2], pass.Batches); // only the unfinished shard was sampled
        Assert.Equal(first, await GenAsync(storage, "xbatch-mixed", "i00-0"));
    }

    [Fact]
    public async Task The_worker_samples_the_messages_it_receives_together_and_raises_each_shards_event()
    {
        var storage = azurite.Storage;
        await WriteRunAsync(storage, "xbatch-worker", seed: 7, ShardSizes);
        await WriteRunAsync(storage, "xbatch-worker-alone", seed: 7, ShardSizes);
        using var models = new ModelProvider(storage, Options.Create(new ModelProviderOptions()));
        var client = new RecordingOrchestrationClient();
        var options = Options.Create(new InferenceWorkerOptions
        {
            MaxBatchSize = 4, MaxShardsPerPass = 4, PollInterval = TimeSpan.FromMilliseconds(50),
            VisibilityTimeout = TimeSpan.FromSeconds(5), VisibilityRenewInterval = TimeSpan.FromSeconds(1),
        });
        var queue = storage.Queue(StorageLayout.InferenceRequestsQueue);
        for (int s = 0; s < ShardSizes.Length; s++)
            await QueueMessages.SendAsync(queue, PipelineJson.SerializeToUtf8Bytes(Request("xbatch-worker", s)));
        using (var worker = new InferenceWorker(storage, new ShardSampler(storage, models, options, NullLogger<ShardSampler>.Instance), client, options, NullLogger<InferenceWorker>.Instance))
        {
            await worker.StartAsync(CancellationToken.None);
            await Eventually.TrueAsync(() => Task.FromResult(client.Events.Count(e => e.InstanceId == "xbatch-worker-i") == ShardSizes.Length), "the shards' done events");
            await worker.StopAsync(CancellationToken.None);
        }
        var events = client.Events.Where(e => e.InstanceId == "xbatch-worker-i").OrderBy(e => e.EventName, StringComparer.Ordinal).ToList();
        for (int s = 0; s < ShardSizes.Length; s++)
        {
            Assert.Equal(RunActivityNames.InferenceDoneEvent(s), events[s].EventName);
            Assert.Equal(new InferenceDone(s, ShardSizes[s], 0), events[s].Payload);
        }
        // Every message of this run was deleted: none comes back after its visibility timeout. (The queue itself is shared
        // with other tests on the same Azurite, which may have messages in it, so the count of all messages says nothing.)
        await Task.Delay(options.Value.VisibilityTimeout + TimeSpan.FromSeconds(1));
        var left = (await queue.PeekMessagesAsync(maxMessages: 32)).Value
            .Select(m => Encoding.UTF8.GetString(QueueMessages.Decode(m.Body.ToString())))
            .Where(body => body.Contains("\"xbatch-worker\"", StringComparison.Ordinal)).ToList();
        Assert.Empty(left);

        var alone = Sampler(storage, models, maxBatch: 4);
        for (int s = 0; s < ShardSizes.Length; s++) await alone.SampleShardAsync(Request("xbatch-worker-alone", s), CancellationToken.None);
        foreach (string item in ItemIds(ShardSizes))
            Assert.Equal(await GenAsync(storage, "xbatch-worker-alone", item), await GenAsync(storage, "xbatch-worker", item));
    }

    private static ShardSampler Sampler(PipelineStorage storage, ModelProvider models, int maxBatch) =>
        new(storage, models, Options.Create(new InferenceWorkerOptions { MaxBatchSize = maxBatch }), NullLogger<ShardSampler>.Instance);

    private static InferenceRequestMessage Request(string runId, int shard) => new(runId, runId + "-i", shard, RunBlobs.PlanShard(shard), 1);

    private static IEnumerable<string> ItemIds(int[] sizes) =>
        sizes.SelectMany((n, s) => Enumerable.Range(0, n).Select(k => $"i{s:D2}-{k}"));

    private static async Task<byte[]> GenAsync(PipelineStorage storage, string runId, string itemId) =>
        (await storage.Run(runId).ReadAsync(RunBlobs.GenTensors(itemId), CancellationToken.None))!.ToArray();

    /// <summary>A planned and prepared run: shards of the given sizes, item i of shard s named "i{s}-{i}" with inputs
    /// drawn from its own seed (the same in every run written here).</summary>
    private static async Task WriteRunAsync(PipelineStorage storage, string runId, int seed, int[] sizes, bool prepared = true)
    {
        var run = storage.Run(runId);
        var shards = new List<ShardRef>();
        for (int s = 0; s < sizes.Length; s++)
        {
            var items = Enumerable.Range(0, sizes[s]).Select(k => new WorkItem
            {
                ItemId = $"i{s:D2}-{k}", Mode = TaskMode.Insertion, TargetImage = "datasets/d/t.dcm", ReferenceImage = "datasets/d/r.dcm",
                ReferenceBox = new BoundingBox(0, 0, 16, 16), TargetBox = new BoundingBox(4, 4, 12, 12), ClassName = "Mass", Seed = 1000 + 10 * s + k,
            }).ToList();
            await run.WriteJsonIfAbsentAsync(RunBlobs.PlanShard(s), new PlanShard { RunId = runId, Index = s, Items = items });
            shards.Add(new ShardRef(s, items.Count, RunBlobs.PlanShard(s)));
            if (!prepared) continue;
            foreach (var item in items)
            {
                var rng = new Random((int)item.Seed);
                float[] Noise() => Enumerable.Range(0, 256).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray();
                var mask = Enumerable.Range(0, 256).Select(i => i / 16 is >= 4 and < 12 && i % 16 is >= 4 and < 12 ? 1f : 0f).ToArray();
                var bundle = new TensorBundle().Add(ModelTensorNames.Context, Noise()).Add(ModelTensorNames.Mask, mask)
                    .Add(ModelTensorNames.Reference, Noise()).Add(ModelTensorNames.Detail, Noise());
                await run.WriteIfAbsentAsync(RunBlobs.PrepTensors(item.ItemId), BinaryData.FromBytes(bundle.ToBytes()));
            }
            await run.WriteJsonIfAbsentAsync(RunBlobs.PrepShard(s), new ShardManifest(s, items.Select(i => new ItemStage(i.ItemId)).ToList()));
        }
        var request = new AugmentationRequest
        {
            RunId = runId, Dataset = "d", Model = Model, Seed = seed,
            Tasks = [new AugmentationTask { Mode = TaskMode.Insertion, Count = sizes.Sum() }],
        };
        await run.WriteJsonIfAbsentAsync(RunBlobs.Plan, new RunPlan { RunId = runId, Request = request, Model = Model, ItemCount = sizes.Sum(), Shards = shards });
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }
}
