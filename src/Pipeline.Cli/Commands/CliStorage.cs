using Microsoft.Extensions.Configuration;
using Pipeline.Host;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;

namespace Pipeline.Cli.Commands;

/// <summary>
/// Configuration and storage for the CLI verbs: the same keys as the hosts (AzureWebJobsStorage from the environment,
/// or "Values" of local.settings.json at the repository root, as in Functions); development storage when unset.
/// </summary>
public static class CliStorage
{
    /// <summary>The repository root: PIPELINE_REPO_ROOT (set by ./pipeline), else the folder holding node_modules/azurite
    /// above the current directory, else the current directory.</summary>
    public static string RepositoryRoot =>
        Environment.GetEnvironmentVariable("PIPELINE_REPO_ROOT") is { Length: > 0 } r ? r
        : AzuriteServer.FindRepositoryRoot(Directory.GetCurrentDirectory()) ?? Directory.GetCurrentDirectory();

    /// <summary>Where `serve` keeps Azurite's data when it starts Azurite itself.</summary>
    public static string AzuriteLocation => Path.Combine(RepositoryRoot, ".pipeline", "azurite");

    /// <summary>The "Values" of local.settings.json as top-level keys (as the Functions host turns them into
    /// application settings), overridden by environment variables (Pipeline__Triggers__Enabled, AzureWebJobsStorage).</summary>
    public static IConfiguration BuildConfiguration()
    {
        var file = new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryRoot, "local.settings.json"), optional: true).Build();
        var values = file.GetSection("Values").AsEnumerable(makePathsRelative: true).Where(kv => kv.Value is not null);
        return new ConfigurationBuilder().AddInMemoryCollection(values).AddEnvironmentVariables().Build();
    }

    /// <summary>The connection string for the verbs that run the local engine (serve, demo); null, after telling the user
    /// why, when the storage settings are identity-based (the local engine needs a connection string) or unreadable.</summary>
    public static string? ConnectionString(IConfiguration configuration)
    {
        try { return ServiceCollectionExtensions.GetStorageConnectionString(configuration); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
    }

    /// <summary>Storage for a verb that needs it running; null (after telling the user what to do) when it is development
    /// storage that is not running.</summary>
    public static async Task<PipelineStorage?> ConnectAsync(CancellationToken cancellationToken)
    {
        StorageConnection connection;
        try { connection = ServiceCollectionExtensions.GetStorageConnection(BuildConfiguration()); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
        if (connection.ConnectionString is { } cs && DevelopmentStorage.LocalPorts(cs) is { } ports && !await DevelopmentStorage.IsRunningAsync(ports, cancellationToken))
        {
            Console.Error.WriteLine($"Storage is not reachable: Azurite is not running on 127.0.0.1:{ports.BlobPort}/{ports.QueuePort}. " +
                                    "Start it with `infra/azurite.sh start` or run `./pipeline serve`; or set AzureWebJobsStorage to a storage account.");
            return null;
        }
        try
        {
            var storage = new PipelineStorage(new PipelineStorageOptions { Connection = connection });
            await storage.EnsureCreatedAsync(cancellationToken);
            return storage;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
    }

    /// <summary>The exit code and message for an error talking to storage.</summary>
    public static int Report(Exception e)
    {
        Console.Error.WriteLine($"Storage error: {e.Message.Split('\n')[0]}");
        return ExitCodes.Unavailable;
    }
}
