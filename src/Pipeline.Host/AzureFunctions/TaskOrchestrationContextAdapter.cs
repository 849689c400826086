using System.Text.Json;
using Microsoft.DurableTask;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.AzureFunctions;

/// <summary>
/// The one place that touches Durable's <see cref="TaskOrchestrationContext"/>: each member forwards to it, and
/// Durable's <see cref="TaskFailedException"/> becomes <see cref="DurableTaskFailedException"/>, which
/// <see cref="DurableRunContext"/> maps onto the port's failures. functions/ wraps every orchestrator trigger's context
/// in it; tests run it on the real DurableTask worker (Microsoft.DurableTask.Testing.DurableTaskTestHost).
/// </summary>
public sealed class TaskOrchestrationContextAdapter(TaskOrchestrationContext context) : IDurableOrchestrationContext
{
    public string InstanceId => context.InstanceId;
    public bool IsSubOrchestration => context.Parent is not null;
    public DateTime CurrentUtcDateTime => context.CurrentUtcDateTime;
    public bool IsReplaying => context.IsReplaying;

    /// <summary>
    /// Durable's <c>GetInput&lt;T&gt;</c> only casts what the worker deserialized for the orchestrator's registered
    /// input type; the app registers every orchestrator with input type object, so the worker hands over a
    /// <see cref="JsonElement"/> and a cast to the port's input type would throw InvalidCastException. The input is
    /// read as object and converted with the app's JSON options (<see cref="OrchestrationJson.Options"/>).
    /// </summary>
    public T? GetInput<T>() => context.GetInput<object>() switch
    {
        null => default,
        T typed => typed,
        JsonElement json => json.Deserialize<T>(OrchestrationJson.Options),
        var other => JsonSerializer.SerializeToElement(other, OrchestrationJson.Options).Deserialize<T>(OrchestrationJson.Options),
    };
    public Guid NewGuid() => context.NewGuid();
    public void SetCustomStatus(object? status) => context.SetCustomStatus(status);
    public Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken) => context.CreateTimer(fireAtUtc, cancellationToken);
    public Task<T> WaitForExternalEvent<T>(string name, CancellationToken cancellationToken) => context.WaitForExternalEvent<T>(name, cancellationToken);

    public async Task<T> CallActivityAsync<T>(string name, object? input, DurableRetry? retry)
    {
        TaskOptions? options = retry is null ? null : TaskOptions.FromRetryPolicy(new Microsoft.DurableTask.RetryPolicy(
            retry.MaxNumberOfAttempts, retry.FirstRetryInterval, retry.BackoffCoefficient, retry.MaxRetryInterval));
        try { return await context.CallActivityAsync<T>(name, input, options); }
        catch (TaskFailedException e) { throw Failed(e); }
    }

    public async Task<T> CallSubOrchestratorAsync<T>(string name, string instanceId, object? input)
    {
        try { return await context.CallSubOrchestratorAsync<T>(name, input, new SubOrchestrationOptions(instanceId: instanceId)); }
        catch (TaskFailedException e) { throw Failed(e); }
    }

    private static DurableTaskFailedException Failed(TaskFailedException e) =>
        new(e.TaskName, e.FailureDetails.ErrorType, e.FailureDetails.ErrorMessage, e);
}
