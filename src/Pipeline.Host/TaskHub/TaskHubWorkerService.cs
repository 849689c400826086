using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// Runs the Durable Task worker for the lifetime of the host (when <see cref="TaskHubOptions.RunWorker"/>), or only
/// creates the task hub (a client-only process). Storage that is unreachable at start is waited for, with backoff,
/// instead of failing the host.
/// </summary>
public sealed class TaskHubWorkerService(TaskHubEngine engine, OrchestrationRegistry registry, ILogger<TaskHubWorkerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (engine.Options.RunWorker) await engine.StartWorkerAsync(registry, stoppingToken).ConfigureAwait(false);
                else await engine.CreateIfNotExistsAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                logger.LogWarning("Starting the Durable Task worker on task hub {TaskHub} failed ({Type}: {Error}); retrying in {Delay}", engine.TaskHubName, e.GetType().Name, e.Message, delay);
                try { await Task.Delay(delay, stoppingToken).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(15).Ticks));
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await engine.StopWorkerAsync(cancellationToken).ConfigureAwait(false);
    }
}
