using System.Net;
using System.Net.Sockets;

namespace Pipeline.Storage.Azurite;

/// <summary>
/// The rule that decides whether a local process needs Azurite: only when the connection string points at development
/// storage ("UseDevelopmentStorage=true", or the well-known devstoreaccount1 on a loopback endpoint). A real storage
/// account is used as it is and Azurite is never started.
/// </summary>
public static class DevelopmentStorage
{
    public const string ShortForm = "UseDevelopmentStorage=true";

    /// <summary>Azurite's default ports (blob, queue, table), which "UseDevelopmentStorage=true" means.</summary>
    public const int DefaultBlobPort = 10000, DefaultQueuePort = 10001, DefaultTablePort = 10002;

    /// <summary>The loopback endpoints of a development-storage connection string, or null for a real account.</summary>
    public static (int BlobPort, int QueuePort, int TablePort)? LocalPorts(string connectionString)
    {
        var parts = Parse(connectionString);
        if (parts.TryGetValue("UseDevelopmentStorage", out var dev) && dev.Equals("true", StringComparison.OrdinalIgnoreCase))
            return (DefaultBlobPort, DefaultQueuePort, DefaultTablePort);
        if (!parts.TryGetValue("AccountName", out var account) || account != AzuriteServer.AccountName) return null;
        int? blob = LoopbackPort(parts, "BlobEndpoint"), queue = LoopbackPort(parts, "QueueEndpoint"), table = LoopbackPort(parts, "TableEndpoint");
        if (blob is null || queue is null) return null;
        return (blob.Value, queue.Value, table ?? DefaultTablePort);
    }

    public static bool IsDevelopmentStorage(string connectionString) => LocalPorts(connectionString) is not null;

    /// <summary>True when something accepts connections on the blob and queue ports.</summary>
    public static async Task<bool> IsRunningAsync((int BlobPort, int QueuePort, int TablePort) ports, CancellationToken cancellationToken = default) =>
        await AcceptsAsync(ports.BlobPort, cancellationToken).ConfigureAwait(false) && await AcceptsAsync(ports.QueuePort, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// For development storage that is not running, starts Azurite on its ports with its data under
    /// <paramref name="location"/> and returns it (the caller stops it); returns null when the connection string is a
    /// real account or Azurite already runs.
    /// </summary>
    public static async Task<AzuriteServer?> EnsureStartedAsync(string connectionString, string location, string? repositoryRoot = null, CancellationToken cancellationToken = default)
    {
        if (LocalPorts(connectionString) is not { } ports) return null;
        if (await IsRunningAsync(ports, cancellationToken).ConfigureAwait(false)) return null;
        return await AzuriteServer.StartAsync(new AzuriteOptions
        {
            RepositoryRoot = repositoryRoot, Location = location,
            BlobPort = ports.BlobPort, QueuePort = ports.QueuePort, TablePort = ports.TablePort,
        }, cancellationToken).ConfigureAwait(false);
    }

    private static Dictionary<string, string> Parse(string connectionString) =>
        connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0].Trim(), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Last()[1].Trim(), StringComparer.OrdinalIgnoreCase);

    private static int? LoopbackPort(Dictionary<string, string> parts, string key)
    {
        if (!parts.TryGetValue(key, out var endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)) return null;
        bool loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var ip) && IPAddress.IsLoopback(ip));
        return loopback ? uri.Port : null;
    }

    private static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            return false;
        }
    }
}
