using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Host;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline serve</c>: the local host. Runs everything <see cref="ServiceCollectionExtensions.AddPipeline"/> registers
/// (the queue and blob-drop listeners, the engine and its orchestrators and activities) until Ctrl+C. With development
/// storage that is not running, it starts Azurite with its data under .pipeline/azurite and stops it on exit; with a
/// real storage account (AzureWebJobsStorage) Azurite is never started.
/// <para><c>--role</c> splits the host into processes that share one storage account: <c>control</c> runs the triggers,
/// the engine and the CPU activities with the inference worker off; <c>gpu</c> runs only the inference worker (it
/// consumes inference-requests and raises each shard's done event through the engine's client, but runs no
/// instances); <c>all</c> (default) is both in one process.</para>
/// </summary>
public sealed class ServeCommand : ICommandGroup
{
    public Command Build()
    {
        var cmd = new Command("serve", "Run the local host (queue and datasets/ listeners, orchestration engine) until Ctrl+C; starts Azurite when development storage is configured and not running.");
        var location = new Option<DirectoryInfo?>("--azurite-location") { Description = "Azurite's data folder when serve starts it (default .pipeline/azurite)." };
        var noAzurite = new Option<bool>("--no-azurite") { Description = "Never start Azurite; fail if storage is not reachable." };
        var role = new Option<string>("--role")
        {
            Description = "What this process runs: all (default), control (triggers, engine, CPU activities; no inference worker) or gpu (only the inference worker).",
            HelpName = "all|control|gpu",
            DefaultValueFactory = _ => "all",
        };
        role.AcceptOnlyFromAmong("all", "control", "gpu");
        cmd.Options.Add(location);
        cmd.Options.Add(noAzurite);
        cmd.Options.Add(role);
        cmd.SetAction(async (parse, ct) =>
        {
            var configuration = CliStorage.BuildConfiguration();
            string? cs = CliStorage.ConnectionString(configuration);
            if (cs is null) return ExitCodes.Usage;
            AzuriteServer? azurite = null;
            try
            {
                if (DevelopmentStorage.LocalPorts(cs) is { } ports)
                {
                    if (parse.GetValue(noAzurite))
                    {
                        if (!await DevelopmentStorage.IsRunningAsync(ports, ct))
                        {
                            Console.Error.WriteLine($"Azurite is not running on 127.0.0.1:{ports.BlobPort} and --no-azurite was given.");
                            return ExitCodes.Unavailable;
                        }
                    }
                    else
                    {
                        string dir = parse.GetValue(location)?.FullName ?? CliStorage.AzuriteLocation;
                        azurite = await DevelopmentStorage.EnsureStartedAsync(cs, dir, CliStorage.RepositoryRoot, ct);
                        Console.Error.WriteLine(azurite is null
                            ? $"[serve] using the Azurite already running on 127.0.0.1:{ports.BlobPort}"
                            : $"[serve] started Azurite (pid {azurite.ProcessId}) on 127.0.0.1:{ports.BlobPort}/{ports.QueuePort}/{ports.TablePort}, data in {dir}");
                    }
                }
                else
                {
                    Console.Error.WriteLine("[serve] using the storage account of AzureWebJobsStorage (Azurite not started)");
                }

                var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
                {
                    Configuration = new ConfigurationManager(), ContentRootPath = CliStorage.RepositoryRoot,
                });
                builder.Configuration.AddConfiguration(configuration);
                var serveRole = Enum.Parse<ServeRole>(parse.GetValue(role)!, ignoreCase: true);
                builder.Configuration.AddInMemoryCollection(RoleSettings(serveRole)); // the role wins over other settings
                builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
                builder.Services.AddPipeline(builder.Configuration);
                using var host = builder.Build();
                if (builder.Configuration.GetSection(ServiceCollectionExtensions.TriggersSection).GetValue("Enabled", true)
                    && host.Services.GetService<Pipeline.Core.Orchestration.IOrchestrationClient>() is null)
                {
                    Console.Error.WriteLine("[serve] cannot start: no IOrchestrationClient is registered by AddPipeline (the local engine provides it), " +
                                            "so the augment-requests listener could not start runs.");
                    return ExitCodes.Unavailable;
                }
                await host.Services.GetRequiredService<PipelineStorage>().EnsureCreatedAsync(ct);
                if (serveRole == ServeRole.Gpu && host.Services.GetService<Pipeline.Core.Orchestration.IOrchestrationClient>() is null)
                {
                    Console.Error.WriteLine("[serve] cannot start the gpu role: no IOrchestrationClient is registered (Pipeline:Engine:Enabled=false?); " +
                                            "the inference worker raises each shard's done event through it.");
                    return ExitCodes.Unavailable;
                }
                Console.Error.WriteLine($"[serve] running as role {serveRole.ToString().ToLowerInvariant()}; Ctrl+C stops");
                await host.RunAsync(ct);
                return ExitCodes.Ok;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Ok; // Ctrl+C is how serve ends
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"[serve] cannot start: {e.Message}");
                return ExitCodes.Unavailable;
            }
            catch (Exception e) when (Pipeline.Host.Triggers.StorageErrors.IsUnavailable(e) || e is Azure.RequestFailedException)
            {
                return CliStorage.Report(e);
            }
            finally
            {
                azurite?.Dispose(); // graceful: Azurite saves its data under --location
            }
        });
        return cmd;
    }

    /// <summary>Configuration a role sets (over local.settings.json and the environment).</summary>
    public static IReadOnlyDictionary<string, string?> RoleSettings(ServeRole role) => role switch
    {
        ServeRole.Control => new Dictionary<string, string?> { ["Pipeline:InferenceWorker:Enabled"] = "false" },
        ServeRole.Gpu => new Dictionary<string, string?>
        {
            ["Pipeline:InferenceWorker:Enabled"] = "true",
            [ServiceCollectionExtensions.TriggersSection + ":Enabled"] = "false",
            [ServiceCollectionExtensions.EngineSection + ":RunWorker"] = "false",
        },
        _ => new Dictionary<string, string?>(),
    };
}

/// <summary>What one <c>pipeline serve</c> process runs.</summary>
public enum ServeRole
{
    /// <summary>Everything: triggers, engine, CPU activities and the inference worker.</summary>
    All,
    /// <summary>Triggers, engine and CPU activities; the inference worker is off (a gpu process consumes inference-requests).</summary>
    Control,
    /// <summary>Only the inference worker (no triggers; the engine's client raises events but runs no instances).</summary>
    Gpu,
}
