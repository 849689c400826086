using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Runs;
using Pipeline.Host.Triggers;
using Pipeline.Core.Contracts;
using Pipeline.Storage;

namespace Pipeline.Host.Tests.Triggers;

/// <summary>A host's two queue triggers running against storage: consumes "augment-requests" and
/// "inference-requests" until disposed.</summary>
public interface ITriggerHost : IAsyncDisposable
{
    /// <summary>Deliveries of a message before it moves to the poison queue, as this host is configured.</summary>
    int MaxDequeueCount { get; }
}

/// <summary>The local host: the real <see cref="AugmentRequestListener"/> and <see cref="InferenceWorker"/>
/// (BackgroundServices polling the queues), tuned to retry at once.</summary>
public sealed class LocalTriggerHost : ITriggerHost
{
    private readonly AugmentRequestListener _listener;
    private readonly InferenceWorker _worker;
    private readonly ModelProvider _models;

    private LocalTriggerHost(PipelineStorage storage, RecordingOrchestrationClient client)
    {
        var options = new AugmentRequestListenerOptions
        {
            RetryDelay = TimeSpan.Zero, MaxPollInterval = TimeSpan.FromMilliseconds(200), MaxReconnectDelay = TimeSpan.FromSeconds(1),
        };
        MaxDequeueCount = options.MaxDequeueCount;
        _listener = new AugmentRequestListener(storage, client, Options.Create(options), NullLogger<AugmentRequestListener>.Instance);
        _models = new ModelProvider(storage, Options.Create(new ModelProviderOptions()));
        // a failed shard comes back when its visibility ends: short here so that five attempts take seconds
        var workerOptions = Options.Create(new InferenceWorkerOptions { VisibilityTimeout = TimeSpan.FromSeconds(1), VisibilityRenewInterval = TimeSpan.FromMilliseconds(300), PollInterval = TimeSpan.FromMilliseconds(50) });
        _worker = new InferenceWorker(storage, new ShardSampler(storage, _models, workerOptions, NullLogger<ShardSampler>.Instance), client,
            workerOptions, NullLogger<InferenceWorker>.Instance);
    }

    public int MaxDequeueCount { get; }

    public static async Task<ITriggerHost> StartAsync(PipelineStorage storage, RecordingOrchestrationClient client)
    {
        var host = new LocalTriggerHost(storage, client);
        await host._listener.StartAsync(CancellationToken.None);
        await host._worker.StartAsync(CancellationToken.None);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.StopAsync(CancellationToken.None);
        await _worker.StopAsync(CancellationToken.None);
        _listener.Dispose();
        _worker.Dispose();
        _models.Dispose();
    }
}

/// <summary>
/// The Functions app's queue triggers: the handlers functions/Pipeline.Functions binds (<see cref="AzureTriggerHandlers"/>
/// with <see cref="AzureInferenceRequestHandler"/>), driven by a stand-in for the Functions host's queue trigger (the
/// host itself cannot run here): it receives each message, passes its body as delivered with its dequeue count,
/// deletes it when the function returns, and when the function throws makes it visible again, or at
/// host.json's maxDequeueCount moves it to "{queue}-poison" itself, as the Queue Storage extension does.
/// </summary>
public sealed class AzureTriggerHost : ITriggerHost
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly ModelProvider _models;

    private AzureTriggerHost(PipelineStorage storage, RecordingOrchestrationClient client)
    {
        MaxDequeueCount = ReadHostJsonMaxDequeueCount();
        _models = new ModelProvider(storage, Options.Create(new ModelProviderOptions()));
        var loggers = NullLoggerFactory.Instance;
        var sampler = new ShardSampler(storage, _models, Options.Create(new InferenceWorkerOptions()), NullLogger<ShardSampler>.Instance);
        var inference = new AzureInferenceRequestHandler(storage, sampler, loggers) { MaxDequeueCount = MaxDequeueCount };
        var handlers = new AzureTriggerHandlers(storage, new NoIngestor(), NullLogger<AzureTriggerHandlers>.Instance, inference) { MaxDequeueCount = MaxDequeueCount };
        _loops.Add(QueueTriggerLoop(storage, StorageLayout.AugmentRequestsQueue,
            (body, id, n, ct) => handlers.AugmentRequestAsync(body, id, n, client, ct)));
        _loops.Add(QueueTriggerLoop(storage, StorageLayout.InferenceRequestsQueue,
            (body, id, n, ct) => handlers.InferenceRequestAsync(body, id, n, client, ct)));
    }

    public int MaxDequeueCount { get; }

    public static Task<ITriggerHost> StartAsync(PipelineStorage storage, RecordingOrchestrationClient client) =>
        Task.FromResult<ITriggerHost>(new AzureTriggerHost(storage, client));

    /// <summary>functions/Pipeline.Functions/host.json's extensions.queues.maxDequeueCount.</summary>
    public static int ReadHostJsonMaxDequeueCount()
    {
        string path = Path.Combine(RepoRoot(), "functions", "Pipeline.Functions", "host.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("extensions").GetProperty("queues").GetProperty("maxDequeueCount").GetInt32();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }

    private Task QueueTriggerLoop(PipelineStorage storage, string queueName, Func<BinaryData, string, long, CancellationToken, Task> function) => Task.Run(async () =>
    {
        var queue = storage.Queue(queueName);
        var poison = storage.Queue(StorageLayout.PoisonQueueOf(queueName));
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var message = (await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(30), _stop.Token)).Value;
                if (message is null) { await Task.Delay(50, _stop.Token); continue; }
                try
                {
                    await function(message.Body, message.MessageId, message.DequeueCount, _stop.Token);
                }
                catch (Exception) when (!_stop.IsCancellationRequested)
                {
                    if (message.DequeueCount >= MaxDequeueCount)
                    {
                        await poison.SendMessageAsync(message.Body.ToString(), _stop.Token);
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, _stop.Token);
                    }
                    else
                    {
                        await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: _stop.Token);
                    }
                    continue;
                }
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { break; }
        }
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        _models.Dispose();
        _stop.Dispose();
    }

    private sealed class NoIngestor : IDatasetIngestor
    {
        public Task IngestAsync(string datasetName, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the queue trigger tests do not ingest");
    }
}
