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
        string manifestBlob = RunBlobs.PrepShard(input.Shard.Index);
        var (stage, finished) = await ShardStage.BeginAsync(storage, models, domains, input, manifestBlob, cancellationToken).ConfigureAwait(false);
        if (stage is null) return finished!;
        var (run, shard, package, preparer) = (stage.Run, stage.Shard, stage.Package, stage.Domain.Preparer);
        var blobs = new StorageBlobReader(storage);
        var stages = new List<ItemStage>();
        foreach (var item in shard.Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var prepared = await preparer.PrepareAsync(item, package.Preparation, blobs, cancellationToken).ConfigureAwait(false);
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
