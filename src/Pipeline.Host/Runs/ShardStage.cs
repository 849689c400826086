using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Core.Runs;
using Pipeline.Inference.Packages;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>What a shard stage (Preprocess, Compose) works from: the run's blobs, the shard's items, the run's plan, its
/// model package and its domain; and how it goes through the items (<see cref="ForEachItemAsync"/>).</summary>
public sealed record ShardStage(RunStore Run, int ShardIndex, string ManifestBlob, PlanShard Shard, RunPlan Plan, ModelPackage Package, IRunDomain Domain)
{
    /// <summary>The stage's inputs, or null when the stage already wrote <paramref name="manifestBlob"/> for the shard
    /// (a replayed or redelivered call): <paramref name="finished"/> then holds its counts.</summary>
    public static async Task<(ShardStage? Stage, ShardStageResult? Finished)> BeginAsync(PipelineStorage storage, ModelProvider models, RunDomains domains,
        ShardStageInput input, string manifestBlob, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        if (await ShardDocuments.FinishedAsync(run, manifestBlob, input.Shard.Index, cancellationToken).ConfigureAwait(false) is { } finished)
            return (null, finished);
        var shard = await ShardDocuments.ReadPlanAsync(run, input.Shard, cancellationToken).ConfigureAwait(false);
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, cancellationToken).ConfigureAwait(false);
        return (new ShardStage(run, input.Shard.Index, manifestBlob, shard, plan, package, domains.For(plan.Domain)), null);
    }

    /// <summary>
    /// Runs <paramref name="processItem"/> on each item of the shard in order; an item's exception (other than
    /// cancellation) becomes its error "{step}: reason" and the shard goes on. Then writes the shard's stage manifest and
    /// returns its counts.
    /// </summary>
    public async Task<ShardStageResult> ForEachItemAsync(string step, Func<WorkItem, Task<ItemStage>> processItem, CancellationToken cancellationToken)
    {
        var stages = new List<ItemStage>();
        foreach (var item in Shard.Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                stages.Add(await processItem(item).ConfigureAwait(false));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                stages.Add(new ItemStage(item.ItemId, Error: $"{step}: {ShardDocuments.Reason(e)}"));
            }
        }
        await Run.WriteJsonIfAbsentAsync(ManifestBlob, new ShardManifest(ShardIndex, stages), cancellationToken).ConfigureAwait(false);
        return ShardDocuments.Count(ShardIndex, stages);
    }
}
