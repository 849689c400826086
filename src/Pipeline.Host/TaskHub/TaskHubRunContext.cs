using System.Security.Cryptography;
using System.Text;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using Pipeline.Core.Orchestration;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// The port <see cref="IRunContext"/> over the Durable Task Framework's classic <see cref="OrchestrationContext"/>,
/// with the same semantics as the Functions adapter (<see cref="DurableRunContext"/>): activity failures after the
/// retry policy -> <see cref="ActivityFailedException"/> (the framework retries natively, with durable timers between
/// attempts); sub-orchestrations are retried here, attempt n &gt;= 2 as instance "{instanceId}-retry{n}", and fail
/// with <see cref="OrchestrationFailedException"/>; an event wait with a timeout races a durable timer. The classic
/// API has no event wait of its own: events arrive through <see cref="PortOrchestration.RaiseEvent"/> in history
/// order and are kept in <see cref="ExternalEventInbox"/> until a wait takes them, so an event raised before the wait
/// counts. Everything here is deterministic (only the context's clock, timers and history).
/// </summary>
public sealed class TaskHubRunContext : IRunContext
{
    private readonly OrchestrationContext _context;
    private readonly string _input;
    private int _guidCounter;

    internal TaskHubRunContext(OrchestrationContext context, string name, string input, ExternalEventInbox events)
    {
        _context = context;
        Name = name;
        _input = input;
        Events = events;
    }

    internal ExternalEventInbox Events { get; }

    /// <summary>The last custom status set (JSON), returned to the framework by <see cref="PortOrchestration.GetStatus"/>.</summary>
    internal string? CustomStatusJson { get; private set; }

    public string InstanceId => _context.OrchestrationInstance.InstanceId;

    public string Name { get; }

    public DateTime CurrentUtcDateTime => _context.CurrentUtcDateTime;

    public bool IsReplaying => _context.IsReplaying;

    public T GetInput<T>() => new RawJson(_input).Read<T>();

    public void SetCustomStatus(object? status) => CustomStatusJson = status is null ? null : RawJson.From(status).Text;

    /// <summary>A name-based (RFC 4122 version 5 style) GUID from the instance id, the replay-safe time and a counter,
    /// as Durable Functions makes its NewGuid: the same on every replay.</summary>
    public Guid NewGuid()
    {
        string name = $"{InstanceId}_{CurrentUtcDateTime:o}_{_guidCounter++}";
        byte[] hash = SHA1.HashData(Encoding.UTF8.GetBytes(name));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    public Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken = default)
    {
        var utc = fireAtUtc.Kind == DateTimeKind.Local ? fireAtUtc.ToUniversalTime() : DateTime.SpecifyKind(fireAtUtc, DateTimeKind.Utc);
        return _context.CreateTimer(utc, true, cancellationToken);
    }

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy? retry = null)
    {
        InstanceIds.ValidateName(name, "Activity");
        var durableRetry = DurableRetry.From(retry);
        var payload = RawJson.From(input);
        RawJson result;
        try
        {
            result = durableRetry is null
                ? await _context.ScheduleTask<RawJson>(name, "", payload)
                : await _context.ScheduleWithRetry<RawJson>(name, "", ToRetryOptions(durableRetry), payload);
        }
        catch (TaskFailedException e)
        {
            var (type, message) = Describe(e.FailureDetails, e);
            throw new ActivityFailedException(name, type, message, durableRetry?.MaxNumberOfAttempts ?? 1);
        }
        return result.Read<TResult>();
    }

    public async Task<TResult> CallSubOrchestratorAsync<TResult>(string name, string instanceId, object? input, RetryPolicy? retry = null)
    {
        InstanceIds.ValidateName(name, "Orchestrator");
        InstanceIds.Validate(instanceId);
        retry?.Validate();
        var policy = retry ?? RetryPolicy.None;
        var payload = RawJson.From(input);
        for (int attempt = 1; ; attempt++)
        {
            string childId = attempt == 1 ? instanceId : $"{instanceId}-retry{attempt}";
            InstanceIds.Validate(childId);
            try
            {
                var result = await _context.CreateSubOrchestrationInstance<RawJson>(name, "", childId, payload);
                return result.Read<TResult>();
            }
            catch (SubOrchestrationFailedException) when (attempt < policy.MaxAttempts)
            {
                await _context.CreateTimer(CurrentUtcDateTime + policy.DelayBeforeAttempt(attempt + 1), true);
            }
            catch (SubOrchestrationFailedException e)
            {
                throw new OrchestrationFailedException(name, childId, Describe(e.FailureDetails, e).Message);
            }
        }
    }

    public async Task<T> WaitForExternalEventAsync<T>(string name, TimeSpan timeout)
    {
        InstanceIds.ValidateName(name, "Event");
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative (Timeout.InfiniteTimeSpan waits forever).");
        var waiter = Events.Wait(name);
        if (timeout == Timeout.InfiniteTimeSpan || waiter.IsCompleted)
            return new RawJson(await waiter).Read<T>();

        // The durable pattern: race the event against a durable timer, then cancel the loser so the orchestration
        // can complete (an unfired timer would otherwise stay open).
        using var timerCancel = new CancellationTokenSource();
        Task timer = _context.CreateTimer(CurrentUtcDateTime + timeout, true, timerCancel.Token);
        Task winner = await Task.WhenAny(waiter, timer);
        if (winner == waiter)
        {
            timerCancel.Cancel();
            return new RawJson(await waiter).Read<T>();
        }
        Events.Abandon(name, waiter);
        throw new TimeoutException($"No external event '{name}' arrived within {timeout}.");
    }

    private static RetryOptions ToRetryOptions(DurableRetry retry) => new(retry.FirstRetryInterval, retry.MaxNumberOfAttempts)
    {
        BackoffCoefficient = retry.BackoffCoefficient,
        MaxRetryInterval = retry.MaxRetryInterval,
    };

    /// <summary>The failed call's exception type (short name, as the port reports it) and message.</summary>
    private static (string Type, string Message) Describe(FailureDetails? details, Exception fallback) =>
        details is null
            ? (fallback.InnerException?.GetType().Name ?? fallback.GetType().Name, fallback.InnerException?.Message ?? fallback.Message)
            : (DurableRunContext.ShortTypeName(details.ErrorType), details.ErrorMessage);
}

/// <summary>External events an instance has received (in history order) and the waits that take them: each wait
/// takes the oldest event of its name not yet taken; an event with no wait is kept for the next one.</summary>
internal sealed class ExternalEventInbox
{
    private readonly Dictionary<string, Queue<string>> _received = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<string>>> _waits = new(StringComparer.Ordinal);

    public void Deliver(string name, string payload)
    {
        if (_waits.TryGetValue(name, out var waits) && waits.First is { } first)
        {
            waits.RemoveFirst();
            first.Value.SetResult(payload); // continues the orchestrator inline, on the framework's orchestrator thread
            return;
        }
        if (!_received.TryGetValue(name, out var queue)) _received[name] = queue = new Queue<string>();
        queue.Enqueue(payload);
    }

    public Task<string> Wait(string name)
    {
        if (_received.TryGetValue(name, out var queue) && queue.Count > 0) return Task.FromResult(queue.Dequeue());
        var tcs = new TaskCompletionSource<string>();
        if (!_waits.TryGetValue(name, out var waits)) _waits[name] = waits = new LinkedList<TaskCompletionSource<string>>();
        waits.AddLast(tcs);
        return tcs.Task;
    }

    /// <summary>A wait that timed out no longer takes events.</summary>
    public void Abandon(string name, Task<string> wait)
    {
        if (!_waits.TryGetValue(name, out var waits)) return;
        for (var node = waits.First; node is not null; node = node.Next)
            if (node.Value.Task == wait) { waits.Remove(node); return; }
    }
}
