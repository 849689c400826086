using System.Text.Json;
using Pipeline.Core.Orchestration;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.Tests.AzureFunctions;

/// <summary>
/// An in-memory stand-in for Durable Functions' orchestration context with Durable's documented behaviour: activities
/// run from a registry with Durable's native retry (RetryPolicy delays on a virtual clock) and fail with the last
/// attempt's details; payloads round-trip through JSON like Durable's data converter; sub-orchestrations run the
/// registered orchestrator on a child context; timers fire at once (so an event wait with a timeout loses unless the event is queued); waits and timers
/// end cancelled when their token is cancelled.
/// </summary>
internal sealed class FakeDurableContext(OrchestrationRegistry registry, string instanceId, object? input, FakeDurableContext? parent = null) : IDurableOrchestrationContext
{
    private readonly Dictionary<string, Queue<JsonElement>> _events = new(StringComparer.OrdinalIgnoreCase);
    private int _guids;

    public string InstanceId { get; } = instanceId;
    public bool IsSubOrchestration { get; init; }
    public DateTime CurrentUtcDateTime { get; private set; } = parent?.CurrentUtcDateTime ?? new DateTime(2026, 11, 22, 8, 0, 0, DateTimeKind.Utc);
    public bool IsReplaying => false;
    public object? CustomStatus { get; private set; }

    /// <summary>Every durable timer created: when it was due, whether its token was cancelled.</summary>
    public List<(DateTime FireAt, CancellationToken Token)> Timers { get; } = [];
    /// <summary>Every activity attempt: name and delay waited before it.</summary>
    public List<(string Name, TimeSpan Delay)> ActivityAttempts { get; } = [];
    /// <summary>Every sub-orchestration instance started (in all child contexts).</summary>
    public List<string> SubOrchestrations => parent?.SubOrchestrations ?? _subs;
    private readonly List<string> _subs = [];

    /// <summary>Sub-orchestration instances that fail on purpose.</summary>
    public HashSet<string> FailingInstances => parent?.FailingInstances ?? _failing;
    private readonly HashSet<string> _failing = [];

    public void Raise(string name, object? payload)
    {
        if (!_events.TryGetValue(name, out var q)) _events[name] = q = new Queue<JsonElement>();
        q.Enqueue(JsonSerializer.SerializeToElement(payload, OrchestrationJson.Options));
    }

    public T? GetInput<T>() => JsonSerializer.SerializeToElement(input, OrchestrationJson.Options).Deserialize<T>(OrchestrationJson.Options);

    public Guid NewGuid() => new(_guids++, 0, 0, new byte[8]);

    public void SetCustomStatus(object? status) => CustomStatus = status;

    public async Task<T> CallActivityAsync<T>(string name, object? input, DurableRetry? retry)
    {
        if (!registry.TryGetActivity(name, out var activity)) throw new InvalidOperationException("no activity " + name);
        var json = JsonSerializer.SerializeToElement(input, OrchestrationJson.Options);
        int attempts = retry?.MaxNumberOfAttempts ?? 1;
        for (int attempt = 1; ; attempt++)
        {
            var delay = retry?.DelayBeforeAttempt(attempt) ?? TimeSpan.Zero;
            CurrentUtcDateTime += delay;
            ActivityAttempts.Add((name, delay));
            try
            {
                var result = await activity.RunAsync(json, CancellationToken.None);
                return JsonSerializer.SerializeToElement(result, OrchestrationJson.Options).Deserialize<T>(OrchestrationJson.Options)!;
            }
            catch (Exception e) when (attempt >= attempts)
            {
                throw new DurableTaskFailedException(name, e.GetType().FullName!, e.Message, e);
            }
            catch (Exception)
            {
                // Durable's default Handle retries every failure
            }
        }
    }

    public async Task<T> CallSubOrchestratorAsync<T>(string name, string instanceId, object? input)
    {
        SubOrchestrations.Add(instanceId);
        if (FailingInstances.Contains(instanceId))
            throw new DurableTaskFailedException(name, "System.Exception", $"{instanceId} failed on purpose");
        var child = new FakeDurableContext(registry, instanceId, JsonSerializer.SerializeToElement(input, OrchestrationJson.Options), this);
        object? result;
        try { result = await DurableRunContext.RunAsync(registry, name, child); }
        catch (Exception e) { throw new DurableTaskFailedException(name, e.GetType().FullName!, e.Message, e); }
        CurrentUtcDateTime = child.CurrentUtcDateTime;
        return JsonSerializer.SerializeToElement(result, OrchestrationJson.Options).Deserialize<T>(OrchestrationJson.Options)!;
    }

    public Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken)
    {
        Timers.Add((fireAtUtc, cancellationToken));
        if (fireAtUtc > CurrentUtcDateTime) CurrentUtcDateTime = fireAtUtc;
        return Task.CompletedTask;
    }

    public Task<T> WaitForExternalEvent<T>(string name, CancellationToken cancellationToken)
    {
        if (_events.TryGetValue(name, out var q) && q.Count > 0)
            return Task.FromResult(q.Dequeue().Deserialize<T>(OrchestrationJson.Options)!);
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken));
        return tcs.Task;
    }
}
