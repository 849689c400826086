using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Storage;

namespace Pipeline.Host.Runs;

/// <summary>
/// Preprocess: for each item of the shard, the run's domain prepares the model inputs (<see cref="IItemPreparer"/>; for
/// mammography the zoom-in crop, mask, masked context, reference crop and HF collage of docs/preprocessing.md) with
/// the model package's preparation settings (model.json: resolution, reference size, crop ratio range, reference
/// expansion, value range); they are written as runs/{id}/prep/{item}.tensors with the crop geometry in the shard's prep
/// manifest. A bad image fails only its item, with the reason.
/// </summary>
public sealed class PreprocessActivity(PipelineStorage storage, ModelProvider models, RunDomains domains) : Activity<ShardStageInput, ShardStageResult>
{
    public override string Name => RunActivityNames.Preprocess;

    public override async Task<ShardStageResult> RunAsync(ShardStageInput input, CancellationToken cancellationToken)
    {
        var (stage, finished) = await ShardStage.BeginAsync(storage, models, domains, input, RunBlobs.PrepShard(input.Shard.Index), cancellationToken).ConfigureAwait(false);
        if (stage is null) return finished!;
        var blobs = new StorageBlobReader(storage);
        return await stage.ForEachItemAsync("preprocess", async item =>
        {
            var prepared = await stage.Domain.Preparer.PrepareAsync(item, stage.Package.Preparation, blobs, cancellationToken).ConfigureAwait(false);
            await stage.Run.WriteIfAbsentAsync(RunBlobs.PrepTensors(item.ItemId), BinaryData.FromBytes(prepared.Tensors.ToBytes()), "application/octet-stream", cancellationToken).ConfigureAwait(false);
            return new ItemStage(item.ItemId, Geometry: prepared.Geometry);
        }, cancellationToken).ConfigureAwait(false);
    }
}
