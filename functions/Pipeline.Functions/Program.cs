using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Core.Orchestration;
using Pipeline.Host;
using Pipeline.Host.AzureFunctions;

// The production host: the same registration as the local host (AddPipeline), with Azure's triggers and durable
// engine instead of the local listeners and engine (Pipeline:Triggers:Enabled=false in the settings).
var host = new HostBuilder()
    .ConfigureFunctionsWorkerDefaults(
        _ => { },
        // Durable's data converter uses the worker serializer: the same JSON as the local engine.
        worker => worker.Serializer = new JsonObjectSerializer(OrchestrationJson.Options))
    .ConfigureServices((context, services) =>
    {
        services.AddApplicationInsightsTelemetryWorkerService();
        services.ConfigureFunctionsApplicationInsights();
        services.AddPipeline(context.Configuration);
        // Azure's durable engine runs the orchestrations here; the local engine's worker must not.
        services.AddAzureFunctionsHost();
    })
    .Build();

host.Run();
