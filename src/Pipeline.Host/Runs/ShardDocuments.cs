using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>Reading and writing the run's shard documents, shared by the stage activities and the GPU worker.</summary>
public static class ShardDocuments
{
    public static async Task<PlanShard> ReadPlanAsync(RunStore run, ShardRef shard, CancellationToken cancellationToken) =>
        (await run.ReadJsonAsync<PlanShard>(shard.Blob, cancellationToken).ConfigureAwait(false))?.Value
        ?? throw new InvalidOperationException($"run {run.RunId}: plan shard {shard.Blob} is missing");

    public static async Task<RunPlan> ReadRunPlanAsync(RunStore run, CancellationToken cancellationToken) =>
        (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan, cancellationToken).ConfigureAwait(false))?.Value
        ?? throw new InvalidOperationException($"run {run.RunId}: plan.json is missing");

    /// <summary>The counts of a stage that already finished this shard (a replayed or redelivered call), else null.</summary>
    public static async Task<ShardStageResult?> FinishedAsync(RunStore run, string manifestBlob, int index, CancellationToken cancellationToken) =>
        await ReadManifestAsync(run, manifestBlob, cancellationToken).ConfigureAwait(false) is { } done ? Count(index, done.Items) : null;

    public static async Task<ShardManifest?> ReadManifestAsync(RunStore run, string blob, CancellationToken cancellationToken) =>
        (await run.ReadJsonAsync<ShardManifest>(blob, cancellationToken).ConfigureAwait(false))?.Value;

    public static async Task<ShardManifest> RequireManifestAsync(RunStore run, string blob, CancellationToken cancellationToken) =>
        await ReadManifestAsync(run, blob, cancellationToken).ConfigureAwait(false)
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
