using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Inference.Packages;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>
/// Plan: reads the dataset's index, checks the model package, picks the domain that recognises the dataset
/// (<see cref="RunDomains"/>), lets its planner choose the items deterministically from the seed, and writes
/// runs/{id}/plan.json (with the domain's name) plus one blob per shard. A missing dataset or model, or an impossible
/// per-class target, comes back as problems (the run is rejected, nothing generated).
/// No ingestion race: a dataset whose blobs exist but whose _index.json is missing or older than its newest blob (a
/// request sent right after the upload, before the blob-drop trigger's quiet period ended) is ingested here, on demand,
/// and then planned; only a dataset with no blobs at all is rejected as not found.
/// </summary>
public sealed class PlanActivity(PipelineStorage storage, ModelProvider models, RunDomains domains, ILogger<PlanActivity> logger,
    IDatasetIngestor? ingestor = null) : Activity<PlanInput, PlanOutcome>
{
    public override string Name => RunActivityNames.Plan;

    public override async Task<PlanOutcome> RunAsync(PlanInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        var run = storage.Run(input.RunId);
        var problems = new List<string>();
        await run.WriteJsonIfAbsentAsync(RunBlobs.Request, request, cancellationToken).ConfigureAwait(false);

        var dataset = storage.Dataset(request.Dataset);
        var index = await CurrentIndexAsync(request.Dataset, cancellationToken).ConfigureAwait(false);
        if (index is null) problems.Add($"dataset '{request.Dataset}' not found: there are no blobs under datasets/{request.Dataset}/ (upload it with `pipeline dataset upload <folder> {request.Dataset}`)");

        string? modelSha = null;
        try { modelSha = (await models.GetPackageAsync(request.Model, cancellationToken).ConfigureAwait(false)).ManifestSha256; }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException or ModelPackageException)
        { problems.Add($"model '{request.Model}': {e.Message}"); }
        if (problems.Count > 0) return new PlanOutcome { RunId = input.RunId, Problems = problems };

        var files = new DatasetFiles(request.Dataset, $"{StorageLayout.DatasetsContainer}/{request.Dataset}/", DatasetPathSet.Of(index!), index!.Findings);
        var domain = domains.ForDataset(files);
        var planned = await domain.Planner.PlanAsync(request, files, new StorageBlobReader(storage), cancellationToken).ConfigureAwait(false);
        foreach (var w in planned.Warnings) logger.LogWarning("Dataset {Dataset}: {Problem}", request.Dataset, w);
        if (planned.Problems.Count > 0) return new PlanOutcome { RunId = input.RunId, Problems = planned.Problems };

        var shards = new List<ShardRef>();
        int shardSize = Math.Max(1, request.ShardSize);
        for (int s = 0; s * shardSize < planned.Items.Count; s++)
        {
            var items = planned.Items.Skip(s * shardSize).Take(shardSize).ToList();
            string blob = RunBlobs.PlanShard(s);
            await run.WriteJsonIfAbsentAsync(blob, new PlanShard { RunId = input.RunId, Index = s, Items = items }, cancellationToken).ConfigureAwait(false);
            shards.Add(new ShardRef(s, items.Count, blob));
        }
        var plan = new RunPlan
        {
            RunId = input.RunId, Request = request, Domain = domain.Name, Model = request.Model, ModelSha256 = modelSha,
            DatasetIndexSha256 = (await storage.GetSha256Async(dataset.IndexPath, cancellationToken).ConfigureAwait(false))?.Sha256,
            ItemCount = planned.Items.Count, Shards = shards, Shortfalls = planned.Shortfalls,
        };
        await run.WriteJsonIfAbsentAsync(RunBlobs.Plan, plan, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Run {RunId}: planned {Items} items in {Shards} shards", input.RunId, plan.ItemCount, shards.Count);
        return new PlanOutcome { RunId = input.RunId, ItemCount = plan.ItemCount, Shards = shards, Shortfalls = planned.Shortfalls };
    }

    /// <summary>
    /// The dataset's index, ingesting first when blobs exist but the index is missing or older than the newest of them;
    /// null when the dataset has no blobs.
    /// </summary>
    private async Task<DatasetIndex?> CurrentIndexAsync(string name, CancellationToken cancellationToken)
    {
        DateTimeOffset? indexWritten = null, newestBlob = null;
        await foreach (var e in storage.ListAsync(StorageLayout.DatasetsContainer, name + "/", cancellationToken).ConfigureAwait(false))
        {
            if (e.Path.Name == $"{name}/{DatasetIndex.BlobName}") indexWritten = e.LastModified;
            else if (newestBlob is null || e.LastModified > newestBlob) newestBlob = e.LastModified ?? DateTimeOffset.MaxValue;
        }
        if (newestBlob is null) return null;
        if (indexWritten is null || newestBlob > indexWritten)
        {
            if (ingestor is null)
                throw new InvalidOperationException($"dataset '{name}' has no current index and no ingestor is registered to make one");
            logger.LogInformation("Dataset {Dataset}: index {State}; ingesting before planning", name, indexWritten is null ? "missing" : "older than the newest blob");
            await ingestor.IngestAsync(name, cancellationToken).ConfigureAwait(false);
        }
        return await storage.Dataset(name).ReadIndexAsync(cancellationToken).ConfigureAwait(false);
    }
}
