using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Orchestration;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Orchestration;

namespace Pipeline.Functions.Tests.Durable;

/// <summary>
/// The real DurableTask worker and client (Worker.Grpc / Client.Grpc against the in-memory backend of
/// Microsoft.DurableTask.InProcessTestHost), running every orchestrator and activity of a registry the way
/// functions/Pipeline.Functions does: each orchestrator as <see cref="DurableRunContext.RunAsync"/> over a
/// <see cref="TaskOrchestrationContextAdapter"/>, each activity as <see cref="DurableActivities.RunAsync"/>, with the
/// data converter the app configures (the worker serializer: OrchestrationJson.Options).
/// </summary>
public sealed class DurableWorkerHost : IAsyncDisposable
{
    private readonly DurableTaskTestHost _host;

    private DurableWorkerHost(DurableTaskTestHost host)
    {
        _host = host;
        Orchestrations = DurableTaskClientOperations.For(host.Client);
    }

    /// <summary>Durable's own client.</summary>
    public DurableTaskClient Client => _host.Client;

    /// <summary>The port's client over Durable's, as the Functions app's triggers use it.</summary>
    public DurableOrchestrationClient Orchestrations { get; }

    public static async Task<DurableWorkerHost> StartAsync(OrchestrationRegistry registry)
    {
        var converter = new JsonDataConverter(OrchestrationJson.Options);
        var host = await DurableTaskTestHost.StartAsync(tasks =>
        {
            foreach (string name in registry.OrchestratorNames)
                tasks.AddOrchestratorFunc<object?>(name, ctx => DurableRunContext.RunAsync(registry, name, new TaskOrchestrationContextAdapter(ctx)));
            foreach (string name in registry.ActivityNames)
                tasks.AddActivityFunc<JsonElement, object?>(name, (ctx, input) => DurableActivities.RunAsync(registry, name, input, CancellationToken.None));
        }, new DurableTaskTestHostOptions
        {
            // a port the OS says is free (the host's own default is a random port in 30000-40000, which can collide
            // with an Azurite or another host started by a test running in parallel)
            Port = FreePort(),
            ConfigureServices = services =>
            {
                services.ConfigureAll<DurableTaskWorkerOptions>(o => o.DataConverter = converter);
                services.ConfigureAll<DurableTaskClientOptions>(o => o.DataConverter = converter);
            },
        });
        return new DurableWorkerHost(host);
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
