using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;

namespace Pipeline.Core.Runs;

/// <summary>
/// A bounded group of shards, each through Preprocess -> Infer (GPU worker via queue + external event, re-enqueued on
/// timeout) -> Compose -> Measure. Shards of a group run concurrently; the engine bounds activity concurrency.
/// </summary>
public sealed class AugmentShardGroupOrchestrator(IOptions<AugmentationRunOptions> runOptions) : IOrchestrator
{
    private readonly AugmentationRunOptions options = runOptions.Value;

    public string Name => RunActivityNames.AugmentShardGroup;

    public async Task<object?> RunAsync(IRunContext context)
    {
        var input = context.GetInput<ShardGroupInput>();
        var results = await Task.WhenAll(input.Shards.Select(s => RunShardAsync(context, input, s)));
        return new ShardGroupResult(results);
    }

    private async Task<ShardStageResult> RunShardAsync(IRunContext context, ShardGroupInput input, ShardRef shard)
    {
        var retry = options.ActivityRetry.ToPolicy();
        var stage = new ShardStageInput(input.RunId, shard);
        string step = ShardSteps.Preprocess;
        try
        {
            await context.CallActivityAsync<ShardStageResult>(RunActivityNames.Preprocess, stage, retry);

            step = ShardSteps.Infer;
            InferenceDone? done = null;
            for (int attempt = 1; attempt <= Math.Max(1, input.InferenceAttempts) && done is null; attempt++)
            {
                await context.CallActivityAsync<bool>(RunActivityNames.RequestInference, new InferenceRequestInput(input.RunId, context.InstanceId, shard, attempt), retry);
                try
                {
                    done = await context.WaitForExternalEventAsync<InferenceDone>(RunActivityNames.InferenceDoneEvent(shard.Index), input.InferenceTimeout);
                }
                catch (TimeoutException) when (attempt < input.InferenceAttempts)
                {
                    // the worker died or the message was lost: enqueue again (the worker's writes are idempotent)
                }
            }
            if (done?.Error is { } workerError) throw new ShardFailedException($"inference failed: {workerError}");

            step = ShardSteps.Compose;
            await context.CallActivityAsync<ShardStageResult>(RunActivityNames.Compose, stage, retry);
            step = ShardSteps.Measure;
            return await context.CallActivityAsync<ShardStageResult>(RunActivityNames.Measure, stage, retry);
        }
        catch (Exception e) when (e is ActivityFailedException or TimeoutException or ShardFailedException)
        {
            // Record every item of the shard that has no result yet as failed, with the reason; the run goes on.
            string reason = e is TimeoutException
                ? $"{step}: no result from the GPU worker after {input.InferenceAttempts} attempts of {input.InferenceTimeout}"
                : $"{step}: {e.Message}";
            return await context.CallActivityAsync<ShardStageResult>(RunActivityNames.RecordShardFailure, stage with { Reason = reason }, retry);
        }
    }
}
