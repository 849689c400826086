using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.AzureFunctions;

/// <summary>An instance as Durable's client reports it (<c>OrchestrationMetadata</c>), in plain types.</summary>
/// <param name="RuntimeStatus">The name of Durable's OrchestrationRuntimeStatus (Running, Completed, ...).</param>
public sealed record DurableInstanceState(
    string InstanceId, string Name, string RuntimeStatus, DateTimeOffset CreatedAt, DateTimeOffset LastUpdatedAt,
    string? SerializedInput, string? SerializedOutput, string? SerializedCustomStatus, string? FailureMessage);

/// <summary>The part of Durable's <c>DurableTaskClient</c> the project uses; functions/ forwards each member.</summary>
public interface IDurableClientOperations
{
    Task<DurableInstanceState?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Schedules an instance with this id; false when one exists already (in any state).</summary>
    Task<bool> ScheduleAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken);

    Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken);

    /// <summary>Terminates the instance and its sub-orchestrations.</summary>
    Task TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken);
}

/// <summary>
/// The project's <see cref="IOrchestrationClient"/> over Durable's client, with the same semantics as the local one
/// (Pipeline.Host.TaskHub.TaskHubOrchestrationClient): a start is idempotent per instance id; an event to a missing
/// instance throws <see cref="OrchestrationNotFoundException"/> and one to a finished instance is dropped; cancelling
/// leaves a finished instance as it is; instances read back as <see cref="OrchestrationInstance"/>.
/// </summary>
public sealed class DurableOrchestrationClient(IDurableClientOperations client, TimeProvider? time = null) : IOrchestrationClient
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>How often <see cref="WaitForCompletionAsync"/> polls.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public async Task<bool> ScheduleNewAsync(string orchestratorName, string instanceId, object? input, CancellationToken cancellationToken = default)
    {
        InstanceIds.ValidateName(orchestratorName, "Orchestrator");
        InstanceIds.Validate(instanceId);
        // Checked first so that a redelivered message never reaches Durable's scheduler, whose handling of an
        // existing id depends on the backend; ScheduleAsync deduplicates the race between two deliveries.
        if (await client.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false) is not null)
            return false;
        return await client.ScheduleAsync(orchestratorName, instanceId, input, cancellationToken).ConfigureAwait(false);
    }

    public async Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        InstanceIds.ValidateName(eventName, "Event");
        var state = await client.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)
            ?? throw new OrchestrationNotFoundException(instanceId);
        if (IsTerminal(DurableStatusMapping.ToRunState(state.RuntimeStatus)))
            return;
        await client.RaiseEventAsync(instanceId, eventName, payload, cancellationToken).ConfigureAwait(false);
    }

    public async Task CancelAsync(string instanceId, string reason, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        var state = await client.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)
            ?? throw new OrchestrationNotFoundException(instanceId);
        if (IsTerminal(DurableStatusMapping.ToRunState(state.RuntimeStatus)))
            return;
        await client.TerminateAsync(instanceId, reason, cancellationToken).ConfigureAwait(false);
    }

    public async Task<OrchestrationInstance?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        InstanceIds.Validate(instanceId);
        var state = await client.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false);
        return state is null ? null : DurableStatusMapping.ToInstance(state);
    }

    public async Task<OrchestrationInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var instance = await GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)
                ?? throw new OrchestrationNotFoundException(instanceId);
            if (instance.IsTerminal)
                return instance;
            await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsTerminal(RunState state) => state is RunState.Completed or RunState.Failed or RunState.Cancelled;
}

/// <summary>Durable's runtime status and metadata as the project's <see cref="RunState"/> and
/// <see cref="OrchestrationInstance"/>.</summary>
public static class DurableStatusMapping
{
    /// <summary>Pending -> Pending; Running, ContinuedAsNew, Suspended -> Running (not finished); Completed ->
    /// Completed; Failed -> Failed; Terminated, Canceled -> Cancelled.</summary>
    public static RunState ToRunState(string runtimeStatus) => runtimeStatus switch
    {
        "Pending" => RunState.Pending,
        "Running" or "ContinuedAsNew" or "Suspended" => RunState.Running,
        "Completed" => RunState.Completed,
        "Failed" => RunState.Failed,
        "Terminated" or "Canceled" => RunState.Cancelled,
        _ => throw new ArgumentException($"Unknown Durable runtime status '{runtimeStatus}'.", nameof(runtimeStatus)),
    };

    public static OrchestrationInstance ToInstance(DurableInstanceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var runState = ToRunState(state.RuntimeStatus);
        JsonElement? customStatus = Parse(state.SerializedCustomStatus);
        return new OrchestrationInstance
        {
            InstanceId = state.InstanceId,
            Name = state.Name,
            State = runState,
            CreatedAt = state.CreatedAt,
            UpdatedAt = state.LastUpdatedAt,
            Input = Parse(state.SerializedInput),
            Output = runState == RunState.Completed ? Parse(state.SerializedOutput) : null,
            CustomStatus = customStatus,
            Progress = RunCustomStatus.TryRead(customStatus)?.Progress,
            // A terminated instance's output is the termination reason.
            Error = runState switch
            {
                RunState.Failed => state.FailureMessage ?? "failed",
                RunState.Cancelled => ReadString(Parse(state.SerializedOutput)) ?? "cancelled",
                _ => null,
            },
        };
    }

    private static JsonElement? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
            return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            // not JSON (a plain termination reason): keep it as a JSON string
            return JsonSerializer.SerializeToElement(json);
        }
    }

    private static string? ReadString(JsonElement? e) => e is { ValueKind: JsonValueKind.String } s ? s.GetString() : e?.GetRawText();
}
