using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.TaskHub;

/// <summary>
/// The local host's orchestration engine: the Durable Task Framework's <see cref="TaskHubWorker"/> over its Azure
/// Storage provider (<see cref="AzureStorageOrchestrationService"/>) in the configured account and task hub, running the
/// project's orchestrators and activities from an <see cref="OrchestrationRegistry"/>. <see cref="Client"/> schedules,
/// signals, cancels and reads instances; it works without <see cref="StartWorkerAsync"/> (a process that only submits
/// or raises events). Guarantees and settings: docs/engine.md.
/// </summary>
public sealed class TaskHubEngine : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private TaskHubWorker? _worker;

    public TaskHubEngine(TaskHubOptions options, ILoggerFactory? loggerFactory = null)
    {
        options.Validate();
        Options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<TaskHubEngine>();
        TaskHubName = options.TaskHubName ?? TaskHubOptions.DefaultTaskHubName;
        Service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(options.ConnectionString!),
            TaskHubName = TaskHubName,
            // unique per process: two processes on one machine must not share partition ownership
            WorkerId = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}",
            PartitionCount = options.PartitionCount,
            WorkItemQueueVisibilityTimeout = options.WorkItemQueueVisibilityTimeout,
            ControlQueueVisibilityTimeout = options.ControlQueueVisibilityTimeout,
            LeaseInterval = options.LeaseInterval,
            LeaseRenewInterval = options.LeaseRenewInterval,
            LeaseAcquireInterval = options.LeaseAcquireInterval,
            MaxQueuePollingInterval = options.MaxQueuePollingInterval,
            MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestrations,
            ExtendedSessionsEnabled = options.ExtendedSessionsEnabled,
            ExtendedSessionIdleTimeout = options.ExtendedSessionIdleTimeout,
            UseTablePartitionManagement = options.UseTablePartitionManagement,
            LoggerFactory = _loggerFactory,
        });
        Projection = new RunStatusProjection(options, _loggerFactory.CreateLogger<RunStatusProjection>());
        Client = new TaskHubOrchestrationClient(Service, Projection, options);
    }

    public TaskHubOptions Options { get; }

    public string TaskHubName { get; }

    /// <summary>The framework's provider (queues, tables and leases of the task hub).</summary>
    public AzureStorageOrchestrationService Service { get; }

    public RunStatusProjection Projection { get; }

    public TaskHubOrchestrationClient Client { get; }

    /// <summary>Creates the task hub's queues, tables and containers when missing (idempotent).</summary>
    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        await Service.CreateIfNotExistsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        await Projection.CreateContainerAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the hub if needed and starts the worker: it takes partition leases (a few seconds on a fresh
    /// process), resumes unfinished instances from their history and runs new ones. <paramref name="decorateProvider"/>
    /// wraps the storage provider under the worker (fault-injection tests fail its commits with it).</summary>
    public async Task StartWorkerAsync(OrchestrationRegistry registry, CancellationToken cancellationToken = default,
        Func<IOrchestrationService, IOrchestrationService>? decorateProvider = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (_worker is not null) throw new InvalidOperationException("The worker is already started.");
        await CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        var provider = decorateProvider?.Invoke(Service) ?? Service;
        var worker = new TaskHubWorker(new ProjectingOrchestrationService(provider, Projection, _loggerFactory.CreateLogger(typeof(StaleResults).FullName!)), _loggerFactory)
        {
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        worker.AddTaskOrchestrations(registry.Orchestrators.Select(o => (ObjectCreator<TaskOrchestration>)new PortOrchestrationCreator(o)).ToArray());
        worker.AddTaskActivities(registry.Activities.Select(a => (ObjectCreator<TaskActivity>)new PortActivityCreator(a, _stopping.Token)).ToArray());
        await worker.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        // calls' inputs in the history: results of calls made by an uncommitted step are told apart by them
        // (StaleResults; the dispatcher exists once the worker started, and a step committed before this line is
        // compared by call name only)
        worker.TaskOrchestrationDispatcher.IncludeParameters = true;
        _worker = worker;
        _logger.LogInformation("Durable Task worker started on task hub {TaskHub} ({Partitions} partitions)", TaskHubName, Options.PartitionCount);
    }

    /// <summary>Stops the worker: running activities see their cancellation token fire and are handed back to the
    /// queue unfinished (not failed); unfinished work stays in the task hub and is resumed by the next worker (this
    /// process's leases are released for it). Waits at most 10 s for the dispatchers to drain.</summary>
    public async Task StopWorkerAsync(CancellationToken cancellationToken = default)
    {
        var worker = Interlocked.Exchange(ref _worker, null);
        if (worker is null) return;
        _stopping.Cancel();
        try { await worker.StopAsync(isForced: false).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false); }
        catch (TimeoutException) { _logger.LogWarning("The Durable Task worker did not stop within 10 s; its unfinished work is resumed by the next worker"); }
        finally { worker.Dispose(); }
    }

    public async ValueTask DisposeAsync()
    {
        await StopWorkerAsync().ConfigureAwait(false);
        Service.Dispose();
        _stopping.Dispose();
    }
}
