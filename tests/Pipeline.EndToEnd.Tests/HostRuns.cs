using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Local;

namespace Pipeline.EndToEnd.Tests;

/// <summary>A request through a local host's queue to its end, as the end-to-end tests run it.</summary>
internal static class HostRuns
{
    /// <summary>Submits <paramref name="request"/> to the queue, waits until the trigger has scheduled its orchestration
    /// (a request the trigger rejects is never scheduled: that wait ends after <paramref name="scheduleTimeout"/>, by
    /// default the whole <paramref name="timeout"/>) and then until the run ends.</summary>
    public static async Task<OrchestrationInstance> SubmitAndWaitAsync(LocalPipelineHost host, AugmentationRequest request, TimeSpan timeout, TimeSpan? scheduleTimeout = null)
    {
        await host.SubmitAsync(request);
        using var cts = new CancellationTokenSource(timeout);
        using var scheduled = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        if (scheduleTimeout is { } s) scheduled.CancelAfter(s);
        while (await host.Orchestrations.GetInstanceAsync(request.RunId!, scheduled.Token) is null) await Task.Delay(200, scheduled.Token);
        return await host.Orchestrations.WaitForCompletionAsync(request.RunId!, cts.Token);
    }
}
