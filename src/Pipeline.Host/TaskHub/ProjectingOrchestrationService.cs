using DurableTask.Core;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// The provider as the worker sees it, with two additions to committing an orchestration step
/// (<see cref="CompleteTaskOrchestrationWorkItemAsync"/>): sub-orchestration starts get execution ids that do not
/// change when the step runs again (<see cref="SubOrchestrationExecutionIds"/>), and after the provider commits, the
/// committed state is projected onto the run's status.json (<see cref="RunStatusProjection"/>). Every other member is
/// the provider's own.
/// </summary>
internal sealed class ProjectingOrchestrationService(IOrchestrationService inner, RunStatusProjection projection) : OrchestrationServiceDecorator(inner)
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
}
