using System.Text.Json;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// One of the project's orchestrators (<see cref="IOrchestrator"/>, written once for both hosts) as a classic
/// Durable Task Framework orchestration. The framework makes a new object for every execution (replay), so the event
/// inbox and the custom status live here. Inputs and outputs are plain JSON (<see cref="PortJsonDataConverter"/>).
/// </summary>
public sealed class PortOrchestration(IOrchestrator orchestrator) : TaskOrchestration
{
    private TaskHubRunContext? _context;
    private readonly ExternalEventInbox _events = new();

    public override async Task<string> Execute(OrchestrationContext context, string input)
    {
        context.MessageDataConverter = PortJsonDataConverter.Default;
        _context = new TaskHubRunContext(context, orchestrator.Name, input ?? "null", _events);
        object? output = await orchestrator.RunAsync(_context);
        return RawJson.From(output).Text;
    }

    public override void RaiseEvent(OrchestrationContext context, string name, string input) => _events.Deliver(name, input ?? "null");

    public override string? GetStatus() => _context?.CustomStatusJson;
}

/// <summary>One of the project's activities (<see cref="IActivity"/>) as a classic framework activity: its input is
/// the JSON the orchestration passed, its result JSON.</summary>
public sealed class PortActivity(IActivity activity, CancellationToken stopping) : TaskActivity
{
    public override string Run(TaskContext context, string input) =>
        throw new NotSupportedException("Port activities run asynchronously (RunAsync).");

    public override async Task<string> RunAsync(TaskContext context, string input)
    {
        JsonElement element;
        using (var doc = JsonDocument.Parse(string.IsNullOrEmpty(input) ? "null" : input)) element = doc.RootElement.Clone();
        object? result;
        try { result = await activity.RunAsync(element, stopping).ConfigureAwait(false); }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // the host is stopping: hand the message back unfinished (the framework abandons it) rather than fail it
            throw new SessionAbortedException($"Activity '{activity.Name}' was interrupted because the host is stopping.");
        }
        return RawJson.From(result).Text;
    }
}

/// <summary>Makes a fresh <see cref="PortOrchestration"/> per execution, as the framework expects.</summary>
internal sealed class PortOrchestrationCreator : ObjectCreator<TaskOrchestration>
{
    private readonly IOrchestrator _orchestrator;

    public PortOrchestrationCreator(IOrchestrator orchestrator)
    {
        _orchestrator = orchestrator;
        Name = orchestrator.Name;
        Version = "";
    }

    public override TaskOrchestration Create() => new PortOrchestration(_orchestrator);
}

/// <summary>Hands out the one <see cref="PortActivity"/> of an activity (activities are stateless).</summary>
internal sealed class PortActivityCreator : ObjectCreator<TaskActivity>
{
    private readonly PortActivity _activity;

    public PortActivityCreator(IActivity activity, CancellationToken stopping)
    {
        _activity = new PortActivity(activity, stopping);
        Name = activity.Name;
        Version = "";
    }

    public override TaskActivity Create() => _activity;
}
