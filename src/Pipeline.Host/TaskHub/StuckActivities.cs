using System.Collections;
using System.Reflection;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.Extensions.Logging;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// Lets an activity whose hand-back failed run again in this process.
/// <para>
/// The storage provider keeps every activity message it handed to the worker in an in-process table until the
/// activity's result is sent or the message is handed back (abandoned), and refuses to hand out a message that is in
/// the table ("Work item queue message with ID = ... is being processed multiple times concurrently"). It removes the
/// entry only after the hand-back's storage call succeeded (AzureStorageOrchestrationService
/// AbandonTaskActivityWorkItemAsync: abandon the message, then remove). When storage is down at that moment (an
/// activity that met the outage fails to send its result, and its hand-back fails too), the entry stays: the
/// message comes back after its visibility timeout and is refused every time, for the life of the process, and the
/// instance waits for that call forever. Found by the fault-injection test (seed 3003): a child stuck with one call
/// unanswered, the refusal logged every 15 s for 4 minutes after the last outage.
/// </para>
/// <para>
/// After a failed hand-back the entry is removed here, so the message, visible again after its visibility timeout
/// (<c>WorkItemQueueVisibilityTimeout</c>, 15 s), is processed like any redelivered message (the activity runs
/// again; activities are idempotent). The table is a private field of the provider, reached by reflection; when a
/// framework version renames it, a warning says so and the behaviour is the provider's own.
/// </para>
/// </summary>
internal sealed class StuckActivities
{
    private const string FieldName = "activeActivitySessions";
    private readonly IDictionary? _inFlight;
    private readonly ILogger _logger;

    public StuckActivities(AzureStorageOrchestrationService service, ILogger logger)
    {
        _logger = logger;
        _inFlight = typeof(AzureStorageOrchestrationService).GetField(FieldName, BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(service) as IDictionary;
        if (_inFlight is null)
            logger.LogWarning("The storage provider has no '{Field}' table in this version: an activity whose hand-back fails during a storage outage waits for a restart", FieldName);
    }

    /// <summary>Whether the provider still holds <paramref name="workItem"/> as in flight.</summary>
    public bool Holds(TaskActivityWorkItem workItem) => _inFlight?.Contains(workItem.Id) == true;

    /// <summary>Hands <paramref name="workItem"/> back through <paramref name="abandon"/>; when that fails and the provider
    /// still holds the message as in flight, releases it (its message comes back after the visibility timeout), then rethrows.</summary>
    public async Task AbandonAsync(TaskActivityWorkItem workItem, Func<TaskActivityWorkItem, Task> abandon)
    {
        try
        {
            await abandon(workItem).ConfigureAwait(false);
        }
        catch (Exception e) when (Holds(workItem))
        {
            _inFlight!.Remove(workItem.Id);
            _logger.LogWarning("Handing back activity message {MessageId} ({Activity}) failed ({Error}); released, so it runs again when it is visible again",
                workItem.Id, (workItem.TaskMessage?.Event as DurableTask.Core.History.TaskScheduledEvent)?.Name, e.Message);
            throw;
        }
    }
}
