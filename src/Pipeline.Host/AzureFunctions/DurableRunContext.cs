using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.AzureFunctions;

/// <summary>
/// The adapter from Durable Functions' orchestration context to the project's <see cref="IRunContext"/>, so the
/// orchestrations in src/ run unchanged on Azure's durable engine. It has the same semantics as the local adapter
/// (Pipeline.Host.TaskHub.TaskHubRunContext):
/// activity failures after the retry policy -> <see cref="ActivityFailedException"/> (Durable retries them natively
/// via <see cref="DurableRetry"/>); sub-orchestrations are retried here, attempt n &gt;= 2 as instance
/// "{instanceId}-retry{n}", and fail with <see cref="OrchestrationFailedException"/>; an event wait with a timeout
/// races a durable timer and throws <see cref="TimeoutException"/>; names are validated as the engine does.
/// Everything here is deterministic (only the context's clock and timers), as orchestrator code must be.
/// </summary>
public sealed class DurableRunContext : IRunContext
{
    private readonly IDurableOrchestrationContext _context;

    public DurableRunContext(IDurableOrchestrationContext context, string name)
    {
        ArgumentNullException.ThrowIfNull(context);
        InstanceIds.ValidateName(name, "Orchestrator");
        _context = context;
        Name = name;
    }

    /// <summary>Runs the registered orchestrator <paramref name="name"/> on a Durable context (the body of every
    /// orchestrator function in functions/). A top-level orchestration (a run) is projected onto runs/{id}/status.json
    /// (<see cref="DurableStatusProjection"/>): Running when it starts, at each change of its custom status, and its
    /// final state when it ends (from its output, by <see cref="RunOutcome"/>, as the local host decides it).</summary>
    public static async Task<object?> RunAsync(OrchestrationRegistry registry, string name, IDurableOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(context);
        if (!registry.TryGetOrchestrator(name, out var orchestrator))
            throw new InvalidOperationException($"No orchestrator named '{name}' is registered (AddPipeline registers the project's orchestrators).");
        var run = new DurableRunContext(context, name) { _projects = !context.IsSubOrchestration && registry.TryGetActivity(DurableStatusProjection.ActivityName, out _) };
        if (!run._projects)
            return await orchestrator.RunAsync(run);
        await run.ProjectAsync(RunState.Running, null);
        object? output;
        try
        {
            output = await orchestrator.RunAsync(run);
        }
        catch (Exception e)
        {
            await run.ProjectFinalAsync(RunState.Failed, e.Message);
            throw;
        }
        var (state, error) = RunOutcome.FromOutput(JsonSerializer.Serialize(output, OrchestrationJson.Options));
        await run.ProjectFinalAsync(state, error);
        return output;
    }

    private bool _projects;
    private string? _projectedStatus;
    private readonly List<Task> _projections = [];

    /// <summary>Retries of a projection write (a projection that still fails is logged by Durable and skipped: the
    /// next one, or the final one, writes the state again).</summary>
    private static readonly RetryPolicy ProjectionRetry = new(3, TimeSpan.FromSeconds(1));

    private async Task ProjectAsync(RunState state, string? error)
    {
        var snapshot = new RunStatusSnapshot(InstanceId, state, new DateTimeOffset(CurrentUtcDateTime, TimeSpan.Zero),
            _projectedStatus is null ? null : JsonDocument.Parse(_projectedStatus).RootElement.Clone(), error);
        try { await CallActivityAsync<bool>(DurableStatusProjection.ActivityName, snapshot, ProjectionRetry); }
        catch (ActivityFailedException) { } // the run goes on; status.json catches up at the next projection
    }

    private async Task ProjectFinalAsync(RunState state, string? error)
    {
        await Task.WhenAll(_projections);
        await ProjectAsync(state, error);
    }

    public string InstanceId => _context.InstanceId;

    public string Name { get; }

    public DateTime CurrentUtcDateTime => _context.CurrentUtcDateTime;

    public bool IsReplaying => _context.IsReplaying;

    public T GetInput<T>() => _context.GetInput<T>()!;

    public Guid NewGuid() => _context.NewGuid();

    public void SetCustomStatus(object? status)
    {
        _context.SetCustomStatus(status);
        if (!_projects)
            return;
        // a change of the custom status is projected at once, without waiting for the write: the orchestration goes
        // on, and the writes are ordered by the orchestration's time (DurableStatusProjection.Next)
        string json = JsonSerializer.Serialize(status, OrchestrationJson.Options);
        if (json == _projectedStatus)
            return;
        _projectedStatus = json;
        _projections.Add(ProjectAsync(RunState.Running, null));
    }

    public Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken = default)
    {
        var utc = fireAtUtc.Kind == DateTimeKind.Local ? fireAtUtc.ToUniversalTime() : DateTime.SpecifyKind(fireAtUtc, DateTimeKind.Utc);
        return _context.CreateTimer(utc, cancellationToken);
    }

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy? retry = null)
    {
        InstanceIds.ValidateName(name, "Activity");
        var durableRetry = DurableRetry.From(retry);
        try
        {
            return await _context.CallActivityAsync<TResult>(name, input, durableRetry);
        }
        catch (DurableTaskFailedException e)
        {
            // Durable reports the last attempt's failure; with its default Handle (retry everything) every attempt ran.
            throw new ActivityFailedException(name, ShortTypeName(e.ErrorType), e.ErrorMessage, durableRetry?.MaxNumberOfAttempts ?? 1);
        }
    }

    /// <summary>Durable reports the exception's full type name (System.IO.IOException); the port, like the local
    /// engine, its name (IOException).</summary>
    public static string ShortTypeName(string errorType)
    {
        int dot = errorType.LastIndexOf('.');
        return dot < 0 || dot == errorType.Length - 1 ? errorType : errorType[(dot + 1)..];
    }

    public async Task<TResult> CallSubOrchestratorAsync<TResult>(string name, string instanceId, object? input, RetryPolicy? retry = null)
    {
        InstanceIds.ValidateName(name, "Orchestrator");
        InstanceIds.Validate(instanceId);
        retry?.Validate();
        var policy = retry ?? RetryPolicy.None;
        for (int attempt = 1; ; attempt++)
        {
            string childId = attempt == 1 ? instanceId : $"{instanceId}-retry{attempt}";
            InstanceIds.Validate(childId);
            try
            {
                return await _context.CallSubOrchestratorAsync<TResult>(name, childId, input);
            }
            catch (DurableTaskFailedException) when (attempt < policy.MaxAttempts)
            {
                await _context.CreateTimer(_context.CurrentUtcDateTime + policy.DelayBeforeAttempt(attempt + 1), CancellationToken.None);
            }
            catch (DurableTaskFailedException e)
            {
                throw new OrchestrationFailedException(name, childId, e.ErrorMessage);
            }
        }
    }

    public async Task<T> WaitForExternalEventAsync<T>(string name, TimeSpan timeout)
    {
        InstanceIds.ValidateName(name, "Event");
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative (Timeout.InfiniteTimeSpan waits forever).");
        if (timeout == Timeout.InfiniteTimeSpan)
            return await _context.WaitForExternalEvent<T>(name, CancellationToken.None);

        // The durable pattern: race the event against a durable timer, then cancel the loser so the orchestration
        // can complete (an unfired timer would keep it running).
        using var timerCancel = new CancellationTokenSource();
        using var eventCancel = new CancellationTokenSource();
        Task timer = _context.CreateTimer(_context.CurrentUtcDateTime + timeout, timerCancel.Token);
        Task<T> received = _context.WaitForExternalEvent<T>(name, eventCancel.Token);
        Task winner = await Task.WhenAny(received, timer);
        if (winner == received)
        {
            timerCancel.Cancel();
            return await received;
        }
        eventCancel.Cancel();
        throw new TimeoutException($"No external event '{name}' arrived within {timeout}.");
    }
}

/// <summary>The body of every activity function in functions/: runs the registered activity of that name.</summary>
public static class DurableActivities
{
    public static Task<object?> RunAsync(OrchestrationRegistry registry, string name, JsonElement input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (!registry.TryGetActivity(name, out var activity))
            throw new InvalidOperationException($"No activity named '{name}' is registered (AddPipeline registers the project's activities).");
        return activity.RunAsync(input, cancellationToken);
    }
}
