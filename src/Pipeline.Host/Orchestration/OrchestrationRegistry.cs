using System.Text.Json;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.Orchestration;

/// <summary>The orchestrators and activities an engine can run, by name (built from DI's IOrchestrator/IActivity
/// registrations, or filled by hand).</summary>
public sealed class OrchestrationRegistry
{
    private readonly Dictionary<string, IOrchestrator> _orchestrators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActivity> _activities = new(StringComparer.Ordinal);

    public OrchestrationRegistry() { }

    public OrchestrationRegistry(IEnumerable<IOrchestrator> orchestrators, IEnumerable<IActivity> activities)
    {
        foreach (var o in orchestrators) Add(o);
        foreach (var a in activities) Add(a);
    }

    public OrchestrationRegistry Add(IOrchestrator orchestrator)
    {
        InstanceIds.ValidateName(orchestrator.Name, "Orchestrator");
        if (!_orchestrators.TryAdd(orchestrator.Name, orchestrator))
            throw new ArgumentException($"Two orchestrators are registered as '{orchestrator.Name}' ({_orchestrators[orchestrator.Name].GetType().Name} and {orchestrator.GetType().Name}).");
        return this;
    }

    public OrchestrationRegistry Add(IActivity activity)
    {
        InstanceIds.ValidateName(activity.Name, "Activity");
        if (!_activities.TryAdd(activity.Name, activity))
            throw new ArgumentException($"Two activities are registered as '{activity.Name}' ({_activities[activity.Name].GetType().Name} and {activity.GetType().Name}).");
        return this;
    }

    /// <summary>Registers an activity from a delegate.</summary>
    public OrchestrationRegistry AddActivity(string name, Func<JsonElement, CancellationToken, Task<object?>> run)
        => Add(new DelegateActivity(name, run));

    /// <summary>Registers an orchestrator from a delegate.</summary>
    public OrchestrationRegistry AddOrchestrator(string name, Func<IRunContext, Task<object?>> run)
        => Add(new DelegateOrchestrator(name, run));

    public IEnumerable<IOrchestrator> Orchestrators => _orchestrators.Values;

    public IEnumerable<IActivity> Activities => _activities.Values;

    /// <summary>Every registered orchestrator's name.</summary>
    public IEnumerable<string> OrchestratorNames => _orchestrators.Keys;

    /// <summary>Every registered activity's name.</summary>
    public IEnumerable<string> ActivityNames => _activities.Keys;

    public bool TryGetOrchestrator(string name, out IOrchestrator orchestrator) => _orchestrators.TryGetValue(name, out orchestrator!);

    public bool TryGetActivity(string name, out IActivity activity) => _activities.TryGetValue(name, out activity!);

    private sealed class DelegateActivity(string name, Func<JsonElement, CancellationToken, Task<object?>> run) : IActivity
    {
        public string Name => name;
        public Task<object?> RunAsync(JsonElement input, CancellationToken cancellationToken) => run(input, cancellationToken);
    }

    private sealed class DelegateOrchestrator(string name, Func<IRunContext, Task<object?>> run) : IOrchestrator
    {
        public string Name => name;
        public Task<object?> RunAsync(IRunContext context) => run(context);
    }
}
