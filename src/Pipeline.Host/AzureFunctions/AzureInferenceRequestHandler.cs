using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Runs;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.AzureFunctions;

/// <summary>
/// The Functions app's GPU role: one "inference-requests" message through the trigger core the local GPU worker shares
/// (<see cref="InferenceRequestTrigger"/>), sampling with <see cref="ShardSampler.SampleShardAsync"/> (idempotent: a
/// shard already written is counted, not sampled again): a malformed message moves to inference-requests-poison at
/// once; a failure is rethrown so that the Functions host redelivers the message; after the last attempt the
/// orchestration is told the shard failed and the core moves the message to the poison queue.
/// </summary>
public sealed class AzureInferenceRequestHandler(PipelineStorage storage, ShardSampler sampler, ILoggerFactory loggers) : IInferenceRequestHandler
{
    private readonly ILogger _logger = loggers.CreateLogger<AzureInferenceRequestHandler>();

    /// <summary>host.json's queues.maxDequeueCount.</summary>
    public int MaxDequeueCount { get; init; } = TriggerRules.DefaultMaxDequeueCount;

    public async Task HandleAsync(BinaryData message, string messageId, long dequeueCount, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var trigger = new InferenceRequestTrigger(storage, _logger) { MaxDequeueCount = MaxDequeueCount };
        var outcome = await trigger.HandleAsync(QueueMessages.Decode(message.ToString()), messageId, dequeueCount, sampler.SampleShardAsync, orchestrations, cancellationToken).ConfigureAwait(false);
        if (outcome.Action == QueueMessageAction.RetryLater)
            ExceptionDispatchInfo.Throw(outcome.Error!);
    }
}
