using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>
/// Preprocess: for each item of the shard, the run's domain prepares the model inputs (<see cref="IItemPreparer"/>; for
/// mammography the zoom-in crop, mask, masked context, reference crop and HF collage of docs/preprocessing.md) at the
/// model's resolution; they are written as runs/{id}/prep/{item}.tensors with the crop geometry in the shard's prep
/// manifest. A bad image fails only its item, with the reason.
/// </summary>
public sealed class PreprocessActivity(PipelineStorage storage, ModelProvider models, RunDomains domains) : Activity<ShardStageInput, ShardStageResult>
{
    public override string Name => RunActivityNames.Preprocess;

    public override async Task<ShardStageResult> RunAsync(ShardStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        string manifestBlob = RunBlobs.PrepShard(input.Shard.Index);
        if (await ShardDocuments.FinishedAsync(run, manifestBlob, input.Shard.Index, cancellationToken).ConfigureAwait(false) is { } finished)
            return finished;
        var shard = await ShardDocuments.ReadPlanAsync(run, input.Shard, cancellationToken).ConfigureAwait(false);
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, cancellationToken).ConfigureAwait(false);
        var preparer = domains.For(plan.Domain).Preparer;
        var shape = new ModelInputShape(package.Resolution, package.Reference.Size);
        var blobs = new StorageBlobReader(storage);
        var stages = new List<ItemStage>();
        foreach (var item in shard.Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var prepared = await preparer.PrepareAsync(item, shape, blobs, cancellationToken).ConfigureAwait(false);
                await run.WriteIfAbsentAsync(RunBlobs.PrepTensors(item.ItemId), BinaryData.FromBytes(prepared.Tensors.ToBytes()), "application/octet-stream", cancellationToken).ConfigureAwait(false);
                stages.Add(new ItemStage(item.ItemId, Geometry: prepared.Geometry));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                stages.Add(new ItemStage(item.ItemId, Error: $"preprocess: {ShardDocuments.Reason(e)}"));
            }
        }
        await run.WriteJsonIfAbsentAsync(manifestBlob, new ShardManifest(input.Shard.Index, stages), cancellationToken).ConfigureAwait(false);
        return ShardDocuments.Count(input.Shard.Index, stages);
    }
}
