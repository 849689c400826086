using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Core.Runs;
using Pipeline.Inference.Packages;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>What a shard stage (Preprocess, Compose) works from: the run's blobs, the shard's items, the run's plan, its
/// model package and its domain.</summary>
public sealed record ShardStage(RunStore Run, PlanShard Shard, RunPlan Plan, ModelPackage Package, IRunDomain Domain)
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
        return (new ShardStage(run, shard, plan, package, domains.For(plan.Domain)), null);
    }
}
