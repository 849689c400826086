using System.Security.Cryptography;
using System.Text;
using DurableTask.Core;
using DurableTask.Core.History;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// Gives every sub-orchestration start the same execution id each time the parent's step that makes it runs.
/// <para>
/// The framework draws a new random execution id for a sub-orchestration every time the parent's step runs. A step
/// runs again when its commit failed after its outbound messages were sent (storage down before the history write, or
/// the process killed in between: the provider sends messages first, then writes the history), so the child receives
/// a second start with another execution id. The provider de-duplicates starts of top-level instances only; it takes
/// the second start for a new generation of the child, which overwrites the child's history from the first row and
/// runs the child again from the beginning while the results of the first generation are dropped as stale. Found by
/// fault injection (a child whose history, read after the run, lacked results; a child run twice).
/// </para>
/// <para>
/// With the execution id a function of the parent's instance, the parent's execution and the call's event id (all
/// fixed by the parent's history), a repeated start carries the id of the first one: the framework drops it as a
/// duplicate start event while the child runs, or as a message to a finished instance afterwards.
/// </para>
/// </summary>
public static class SubOrchestrationExecutionIds
{
    /// <summary>Rewrites the execution id of every sub-orchestration start among <paramref name="messages"/>.</summary>
    public static void Assign(IEnumerable<TaskMessage> messages)
    {
        foreach (var message in messages)
        {
            if (message.Event is not ExecutionStartedEvent { ParentInstance.OrchestrationInstance: { } parent } started) continue;
            string executionId = For(parent.InstanceId, parent.ExecutionId, started.ParentInstance.TaskScheduleId);
            started.OrchestrationInstance.ExecutionId = executionId;
            message.OrchestrationInstance.ExecutionId = executionId;
        }
    }

    /// <summary>The execution id of the sub-orchestration started by call <paramref name="taskScheduleId"/> of the
    /// parent's execution: 32 hex digits (the framework's own format), from a SHA-256 of the three.</summary>
    public static string For(string parentInstanceId, string parentExecutionId, int taskScheduleId)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{parentInstanceId}\n{parentExecutionId}\n{taskScheduleId}"));
        return Convert.ToHexStringLower(hash, 0, 16);
    }
}
