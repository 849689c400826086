using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Runs;

/// <summary>RequestInference: puts the shard on the "inference-requests" queue for the GPU worker role.</summary>
public sealed class RequestInferenceActivity(PipelineStorage storage) : Activity<InferenceRequestInput, bool>
{
    public override string Name => RunActivityNames.RequestInference;

    public override async Task<bool> RunAsync(InferenceRequestInput input, CancellationToken cancellationToken)
    {
        var message = new InferenceRequestMessage(input.RunId, input.InstanceId, input.Shard.Index, input.Shard.Blob, input.Attempt);
        await QueueMessages.SendAsync(storage.Queue(StorageLayout.InferenceRequestsQueue), PipelineJson.SerializeToUtf8Bytes(message), cancellationToken).ConfigureAwait(false);
        return true;
    }
}
