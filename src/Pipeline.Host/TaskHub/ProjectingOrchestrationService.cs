using DurableTask.Core;
using Microsoft.Extensions.Logging;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// The provider as the worker sees it, with these additions. Committing an orchestration step
/// (<see cref="CompleteTaskOrchestrationWorkItemAsync"/>): sub-orchestration starts get execution ids that do not
/// change when the step runs again (<see cref="SubOrchestrationExecutionIds"/>), and after the provider commits, the
/// committed state is projected onto the run's status.json (<see cref="RunStatusProjection"/>). Activity results are
/// tagged with the call they answer, and a step's new messages (the first batch and every batch of an extended
/// session) lose the results and timers of calls that a step which was never committed had made
/// (<see cref="StaleResults"/>). Every other member is the provider's own.
/// </summary>
internal sealed class ProjectingOrchestrationService(IOrchestrationService inner, RunStatusProjection projection, ILogger logger)
    : OrchestrationServiceDecorator(inner)
{
    public override async Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage, OrchestrationState orchestrationState)
    {
        SubOrchestrationExecutionIds.Assign(orchestratorMessages);
        await base.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages,
            timerMessages, continuedAsNewMessage, orchestrationState).ConfigureAwait(false);
        projection.Project(newOrchestrationRuntimeState);
    }

    public override async Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var workItem = await base.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken).ConfigureAwait(false);
        if (workItem is null) return workItem!;
        Neutralize(workItem, workItem.NewMessages);
        if (workItem.Session is { } session) workItem.Session = new NeutralizingSession(session, this);
        return workItem;
    }

    public override Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        StaleResults.TagResult(workItem.TaskMessage, responseMessage);
        return base.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
    }

    private void Neutralize(TaskOrchestrationWorkItem workItem, IList<TaskMessage>? messages)
    {
        if (messages is null || workItem.OrchestrationRuntimeState is not { } state) return;
        foreach (string reason in StaleResults.Neutralize(state, messages))
            logger.LogWarning("Instance {InstanceId}: {Reason}", workItem.InstanceId, reason);
    }

    /// <summary>The provider's extended session, with the same treatment of each later batch of messages.</summary>
    private sealed class NeutralizingSession(IOrchestrationSession inner, ProjectingOrchestrationService owner) : IOrchestrationSession
    {
        public async Task<IList<TaskMessage>?> FetchNewOrchestrationMessagesAsync(TaskOrchestrationWorkItem workItem)
        {
            var messages = await inner.FetchNewOrchestrationMessagesAsync(workItem).ConfigureAwait(false);
            owner.Neutralize(workItem, messages);
            return messages;
        }

        public Task EndSessionAsync() => inner.EndSessionAsync();
    }
}
