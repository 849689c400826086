using System.Text.Json;

namespace Pipeline.Core.Orchestration;

/// <summary>A typed orchestrator: its input is deserialised for <see cref="RunAsync(IRunContext, TInput)"/>.
/// The registered name defaults to the class name.</summary>
public abstract class Orchestrator<TInput, TOutput> : IOrchestrator
{
    public virtual string Name => GetType().Name;

    public abstract Task<TOutput> RunAsync(IRunContext context, TInput input);

    async Task<object?> IOrchestrator.RunAsync(IRunContext context) => await RunAsync(context, context.GetInput<TInput>());
}

/// <summary>A typed activity: its input is deserialised for <see cref="RunAsync(TInput, CancellationToken)"/>.
/// The registered name defaults to the class name.</summary>
public abstract class Activity<TInput, TOutput> : IActivity
{
    public virtual string Name => GetType().Name;

    public abstract Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken);

    async Task<object?> IActivity.RunAsync(JsonElement input, CancellationToken cancellationToken)
    {
        TInput value;
        try { value = input.Deserialize<TInput>(OrchestrationJson.Options)!; }
        catch (JsonException e)
        {
            throw new ArgumentException($"Activity '{Name}': input is not a valid {typeof(TInput).Name}: {e.Message}", e);
        }
        return await RunAsync(value, cancellationToken);
    }
}

/// <summary>Conveniences over <see cref="IRunContext"/>, the same on both hosts.</summary>
public static class RunContextExtensions
{
    /// <summary>Calls an activity whose result is not needed.</summary>
    public static Task CallActivityAsync(this IRunContext context, string name, object? input, RetryPolicy? retry = null)
        => context.CallActivityAsync<JsonElement?>(name, input, retry);

    /// <summary>Waits for an external event with no timeout.</summary>
    public static Task<T> WaitForExternalEventAsync<T>(this IRunContext context, string name)
        => context.WaitForExternalEventAsync<T>(name, Timeout.InfiniteTimeSpan);

    /// <summary>A durable timer firing <paramref name="delay"/> after the replay-safe current time.</summary>
    public static Task CreateTimer(this IRunContext context, TimeSpan delay, CancellationToken cancellationToken = default)
        => context.CreateTimer(context.CurrentUtcDateTime + delay, cancellationToken);
}
