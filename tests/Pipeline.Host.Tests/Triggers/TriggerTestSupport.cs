using System.Collections.Concurrent;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Storage;

namespace Pipeline.Host.Tests.Triggers;

/// <summary>An orchestration client that records the instances it is asked to start and the events raised;
/// <see cref="Fail"/> decides, per start, whether the call throws (to exercise retries and the poison queue).</summary>
public sealed class RecordingOrchestrationClient : IOrchestrationClient
{
    public ConcurrentQueue<(string Name, string InstanceId, AugmentationRequest Input)> Started { get; } = new();
    public ConcurrentDictionary<string, int> Calls { get; } = new();
    public Func<string, int, Exception?> Fail { get; set; } = (_, _) => null;

    public Task<bool> ScheduleNewAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken = default)
    {
        int n = Calls.AddOrUpdate(instanceId, 1, (_, c) => c + 1);
        if (Fail(instanceId, n) is { } e) throw e;
        bool first = Started.All(s => s.InstanceId != instanceId);
        if (first) Started.Enqueue((orchestratorName, instanceId, (AugmentationRequest)input!));
        return Task.FromResult(first);
    }

    /// <summary>Every event raised, in order (the GPU worker's inference-done events).</summary>
    public ConcurrentQueue<(string InstanceId, string EventName, object? Payload)> Events { get; } = new();

    public Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken = default)
    {
        Events.Enqueue((instanceId, eventName, payload));
        return Task.CompletedTask;
    }

    public Task CancelAsync(string instanceId, string reason, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("not used by the triggers");

    public Task<OrchestrationInstance?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("not used by the triggers");

    public Task<OrchestrationInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("not used by the triggers");
}

/// <summary>Counts the ingestions it forwards to a real ingestor.</summary>
public sealed class CountingIngestor(IDatasetIngestor inner) : IDatasetIngestor
{
    public ConcurrentDictionary<string, int> Count { get; } = new();

    public async Task IngestAsync(string datasetName, CancellationToken cancellationToken)
    {
        await inner.IngestAsync(datasetName, cancellationToken);
        Count.AddOrUpdate(datasetName, 1, (_, c) => c + 1);
    }
}

public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until true; fails after <paramref name="limitSeconds"/> (a bound on
    /// a hang, not a timing assertion).</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, int limitSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(limitSeconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out after {limitSeconds} s waiting for: {what}");
            await Task.Delay(100);
        }
    }

    public static Task TrueAsync(Func<bool> condition, string what, int limitSeconds = 60) =>
        TrueAsync(() => Task.FromResult(condition()), what, limitSeconds);
}
