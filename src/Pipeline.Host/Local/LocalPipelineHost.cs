using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Host.Local;

/// <summary>
/// The local host in one object: a generic host with <see cref="ServiceCollectionExtensions.AddPipeline"/> (storage,
/// triggers, the durable engine, the run's activities and the GPU-worker role) over a connection string. Used by
/// <c>pipeline serve</c>, <c>pipeline demo</c> and the end-to-end tests.
/// </summary>
public sealed class LocalPipelineHost : IAsyncDisposable
{
    private readonly IHost _host;

    private LocalPipelineHost(IHost host) { _host = host; }

    public IServiceProvider Services => _host.Services;
    public PipelineStorage Storage => _host.Services.GetRequiredService<PipelineStorage>();
    public IOrchestrationClient Orchestrations => _host.Services.GetRequiredService<IOrchestrationClient>();

    /// <param name="connectionString">AzureWebJobsStorage.</param>
    /// <param name="settings">Extra configuration (e.g. "Pipeline:InferenceWorker:Enabled" = "false" for a control-only process).</param>
    /// <param name="minimumLogLevel">Console logging threshold.</param>
    public static async Task<LocalPipelineHost> StartAsync(string connectionString, IReadOnlyDictionary<string, string?>? settings = null,
        LogLevel minimumLogLevel = LogLevel.Warning, CancellationToken cancellationToken = default)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        var values = new Dictionary<string, string?> { [PipelineStorageOptions.ConnectionStringKey] = connectionString };
        if (settings != null) foreach (var (k, v) in settings) values[k] = v;
        builder.Configuration.AddInMemoryCollection(values);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(minimumLogLevel);
        builder.Services.AddPipeline(builder.Configuration);
        var host = builder.Build();
        await host.Services.GetRequiredService<PipelineStorage>().EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        return new LocalPipelineHost(host);
    }

    /// <summary>Enqueues a request on "augment-requests" (what a user's producer does).</summary>
    public async Task SubmitAsync(AugmentationRequest request, CancellationToken cancellationToken = default) =>
        await QueueMessages.SendAsync(Storage.Queue(StorageLayout.AugmentRequestsQueue), PipelineJson.SerializeToUtf8Bytes(request), cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        try { await _host.StopAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false); }
        finally { _host.Dispose(); }
    }
}
