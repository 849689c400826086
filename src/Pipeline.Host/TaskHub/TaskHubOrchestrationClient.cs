using System.Text.Json;
using DurableTask.AzureStorage;
using DurableTask.AzureStorage.Tracking;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Orchestration;
using CoreOrchestrationInstance = DurableTask.Core.OrchestrationInstance;
using PortInstance = Pipeline.Core.Orchestration.OrchestrationInstance;

namespace Pipeline.Host.TaskHub;

/// <summary>One event of an instance's history: its type, id (the sequence number of a scheduled call), the call it
/// completes (TaskCompleted/TaskFailed), its name and input (JSON) where it has them (a GenericEvent's text as its input).</summary>
public sealed record HistoryRecord(DurableTask.Core.History.EventType Type, int EventId, int? TaskScheduledId, string? Name, string? Input = null, string? Result = null);

/// <summary>
/// The port's <see cref="IOrchestrationClient"/> over the framework's <see cref="TaskHubClient"/>, with the same
/// semantics as the Functions host's client: a start is idempotent per instance id; an event to a missing instance
/// throws <see cref="OrchestrationNotFoundException"/> and one to a finished instance is dropped; cancelling
/// terminates the instance and its unfinished sub-orchestrations (ids start with the parent's id, as the run's
/// "{runId}-g0000" do) and leaves a finished instance as it is. A top-level instance's state is also written to
/// runs/{id}/status.json (<see cref="RunStatusProjection"/>).
/// </summary>
public sealed class TaskHubOrchestrationClient : IOrchestrationClient
{
    private static readonly OrchestrationStatus[] AnyStatus = Enum.GetValues<OrchestrationStatus>();
    private readonly AzureStorageOrchestrationService _service;
    private readonly TaskHubClient _client;
    private readonly RunStatusProjection _projection;
    private readonly TimeSpan _pollInterval;

    public TaskHubOrchestrationClient(AzureStorageOrchestrationService service, RunStatusProjection projection, TaskHubOptions options)
    {
        _service = service;
        _client = new TaskHubClient(service, PortJsonDataConverter.Default);
        _projection = projection;
        _pollInterval = options.ClientPollInterval;
    }

    public async Task<bool> ScheduleNewAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken = default)
    {
        InstanceIds.ValidateName(orchestratorName, "Orchestrator");
        InstanceIds.Validate(instanceId);
        if (await _client.GetOrchestrationStateAsync(instanceId).WaitAsync(cancellationToken).ConfigureAwait(false) is not null)
            return false;
        try
        {
            // Every status deduplicates: a second start of the same id (a redelivered request) is refused by the
            // provider; two starts racing past the check above are deduplicated by its ExecutionStarted check.
            await _client.CreateOrchestrationInstanceAsync(orchestratorName, "", instanceId, RawJson.From(input), null, AnyStatus)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            return false;
        }
        var now = DateTimeOffset.UtcNow;
        await _projection.WriteAsync(new RunStatus { RunId = instanceId, State = RunState.Pending, CreatedAt = now, UpdatedAt = now }, cancellationToken)
            .ConfigureAwait(false);
        return true;
    }

    public async Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        InstanceIds.ValidateName(eventName, "Event");
        var state = await GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false) ?? throw new OrchestrationNotFoundException(instanceId);
        if (IsFinished(state.OrchestrationStatus)) return; // as in Durable Functions: events to finished instances are dropped
        await _client.RaiseEventAsync(new CoreOrchestrationInstance { InstanceId = instanceId }, eventName, RawJson.From(payload))
            .WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task CancelAsync(string instanceId, string reason, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        var state = await GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false) ?? throw new OrchestrationNotFoundException(instanceId);
        if (IsFinished(state.OrchestrationStatus)) return;
        reason = string.IsNullOrWhiteSpace(reason) ? "cancelled" : reason;
        await _client.TerminateInstanceAsync(new CoreOrchestrationInstance { InstanceId = instanceId }, reason).WaitAsync(cancellationToken).ConfigureAwait(false);
        // The framework does not terminate sub-orchestrations with their parent: terminate the unfinished descendants.
        foreach (var child in await UnfinishedDescendantsAsync(instanceId, cancellationToken).ConfigureAwait(false))
            await _client.TerminateInstanceAsync(new CoreOrchestrationInstance { InstanceId = child }, $"parent '{instanceId}' was cancelled: {reason}")
                .WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<PortInstance?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        var state = await GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false);
        return state is null ? null : ToInstance(state);
    }

    public async Task<PortInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        while (true)
        {
            var instance = await GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false) ?? throw new OrchestrationNotFoundException(instanceId);
            if (instance.IsTerminal) return instance;
            await Task.Delay(_pollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The instance's history as the framework stored it (latest execution), for diagnostics and tests.</summary>
    public async Task<IReadOnlyList<HistoryRecord>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        string json = await _service.GetOrchestrationHistoryAsync(instanceId, null!).WaitAsync(cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(string.IsNullOrEmpty(json) ? "[]" : json);
        var records = new List<HistoryRecord>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            var type = (DurableTask.Core.History.EventType)e.GetProperty("EventType").GetInt32();
            int? scheduledId = e.TryGetProperty("TaskScheduledId", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : null;
            string? name = e.TryGetProperty("Name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            string? input = e.TryGetProperty("Input", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()
                : e.TryGetProperty("Data", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null; // a GenericEvent's text
            string? result = e.TryGetProperty("Result", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            records.Add(new HistoryRecord(type, e.GetProperty("EventId").GetInt32(), scheduledId, name, input, result));
        }
        return records;
    }

    private async Task<OrchestrationState?> GetStateAsync(string instanceId, CancellationToken cancellationToken) =>
        await _client.GetOrchestrationStateAsync(instanceId).WaitAsync(cancellationToken).ConfigureAwait(false);

    private async Task<List<string>> UnfinishedDescendantsAsync(string instanceId, CancellationToken cancellationToken)
    {
        var byParent = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var condition = new OrchestrationInstanceStatusQueryCondition
        {
            InstanceIdPrefix = instanceId, FetchInput = false, FetchOutput = false,
            RuntimeStatus = [OrchestrationStatus.Pending, OrchestrationStatus.Running, OrchestrationStatus.ContinuedAsNew, OrchestrationStatus.Suspended],
        };
        string? token = null;
        do
        {
            var page = await _service.GetOrchestrationStateAsync(condition, 100, token!, cancellationToken).ConfigureAwait(false);
            foreach (var s in page.OrchestrationState)
                if (s.ParentInstance?.OrchestrationInstance?.InstanceId is { } parent)
                    (byParent.TryGetValue(parent, out var list) ? list : byParent[parent] = []).Add(s.OrchestrationInstance.InstanceId);
            token = page.ContinuationToken;
        } while (!string.IsNullOrEmpty(token));
        var result = new List<string>();
        var pending = new Queue<string>([instanceId]);
        while (pending.TryDequeue(out var id))
            if (byParent.TryGetValue(id, out var children))
                foreach (var c in children) { result.Add(c); pending.Enqueue(c); }
        return result;
    }

    internal static bool IsFinished(OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;

    /// <summary>The framework's state as the port's run state: a completed instance whose output carries a run
    /// outcome (<see cref="RunOutcome"/>) takes that state; Terminated and Canceled are Cancelled.</summary>
    public static (RunState State, string? Error) ToRunState(OrchestrationStatus status, string? output, FailureDetails? failure) => status switch
    {
        OrchestrationStatus.Pending => (RunState.Pending, null),
        OrchestrationStatus.Running or OrchestrationStatus.ContinuedAsNew or OrchestrationStatus.Suspended => (RunState.Running, null),
        OrchestrationStatus.Completed => RunOutcome.FromOutput(output),
        OrchestrationStatus.Failed => (RunState.Failed, failure?.ErrorMessage ?? output ?? "failed"),
        _ => (RunState.Cancelled, ReadReason(output) ?? "cancelled"),
    };

    internal static PortInstance ToInstance(OrchestrationState s)
    {
        var (state, error) = ToRunState(s.OrchestrationStatus, s.Output, s.FailureDetails);
        var customStatus = Parse(s.Status);
        return new PortInstance
        {
            InstanceId = s.OrchestrationInstance.InstanceId,
            Name = s.Name,
            State = state,
            CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(s.CreatedTime, DateTimeKind.Utc)),
            UpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(s.LastUpdatedTime, DateTimeKind.Utc)),
            ParentInstanceId = s.ParentInstance?.OrchestrationInstance?.InstanceId,
            Input = Parse(s.Input),
            Output = s.OrchestrationStatus == OrchestrationStatus.Completed ? Parse(s.Output) : null,
            CustomStatus = customStatus,
            Progress = RunCustomStatus.TryRead(customStatus)?.Progress,
            Error = error,
        };
    }

    /// <summary>A terminated instance's output is its reason, as JSON (a string) or plain text.</summary>
    private static string? ReadReason(string? output) =>
        Parse(output) is { } e ? (e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()) : null;

    internal static JsonElement? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json); // plain text (a termination reason)
        }
    }
}
