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
/// </summary>
public sealed class PlanActivity(PipelineStorage storage, ModelProvider models, RunDomains domains, ILogger<PlanActivity> logger) : Activity<PlanInput, PlanOutcome>
{
    public override string Name => RunActivityNames.Plan;

    public override async Task<PlanOutcome> RunAsync(PlanInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        var run = storage.Run(input.RunId);
        var problems = new List<string>();
        await run.WriteJsonIfAbsentAsync(RunBlobs.Request, request, cancellationToken).ConfigureAwait(false);

        var dataset = storage.Dataset(request.Dataset);
        var index = await dataset.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index is null) problems.Add($"dataset '{request.Dataset}' not found: datasets/{request.Dataset}/{DatasetIndex.BlobName} does not exist (upload the dataset and wait for ingestion)");

        string? modelSha = null;
        try { modelSha = (await models.GetPackageAsync(request.Model, cancellationToken).ConfigureAwait(false)).ManifestSha256; }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException or ModelPackageException)
        { problems.Add($"model '{request.Model}': {e.Message}"); }
        if (problems.Count > 0) return new PlanOutcome { RunId = input.RunId, Problems = problems };

        var files = new DatasetFiles(request.Dataset, $"{StorageLayout.DatasetsContainer}/{request.Dataset}/", index!.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal));
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
}
