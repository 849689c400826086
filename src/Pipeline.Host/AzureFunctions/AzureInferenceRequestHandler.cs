using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Runs;

namespace Pipeline.Host.AzureFunctions;

/// <summary>
/// The Functions app's GPU role: one "inference-requests" message through <see cref="ShardSampler.SampleShardAsync"/>
/// (idempotent: a shard already written is counted, not sampled again), then the done event to the waiting orchestration, as the local worker does. A malformed message is logged
/// and consumed (retrying cannot fix it; the orchestration's inference timeout handles the shard). When the last
/// delivery attempt fails, the failure is reported to the orchestration before the host moves the message to
/// inference-requests-poison.
/// </summary>
public sealed class AzureInferenceRequestHandler(ShardSampler sampler, ILoggerFactory loggers) : IInferenceRequestHandler
{
    private readonly ILogger _logger = loggers.CreateLogger<AzureInferenceRequestHandler>();

    /// <summary>host.json's queues.maxDequeueCount.</summary>
    public int MaxDequeueCount { get; init; } = 5;

    public async Task HandleAsync(BinaryData message, long dequeueCount, IOrchestrationClient orchestrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(orchestrations);
        InferenceRequestMessage request;
        try
        {
            request = PipelineJson.Deserialize<InferenceRequestMessage>(message.ToArray(), "inference request");
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            _logger.LogError("Inference request dropped, malformed: {Error}", e.Message);
            return;
        }
        string eventName = RunActivityNames.InferenceDoneEvent(request.ShardIndex);
        InferenceDone done;
        try
        {
            done = await sampler.SampleShardAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (dequeueCount >= MaxDequeueCount && e is not OperationCanceledException)
        {
            string reason = $"shard {request.ShardIndex} of run {request.RunId} failed {dequeueCount} times: {e.Message}";
            await orchestrations.RaiseEventAsync(request.InstanceId, eventName, new InferenceDone(request.ShardIndex, 0, 0, reason), cancellationToken).ConfigureAwait(false);
            throw;
        }
        await orchestrations.RaiseEventAsync(request.InstanceId, eventName, done, cancellationToken).ConfigureAwait(false);
    }
}
