using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

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
