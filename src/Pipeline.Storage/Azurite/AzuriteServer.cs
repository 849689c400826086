using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Pipeline.Storage.Azurite;

/// <summary>Options for a managed Azurite process.</summary>
public sealed class AzuriteOptions
{
    /// <summary>Repository root holding node_modules/azurite; found by walking up from the app base when null.</summary>
    public string? RepositoryRoot { get; set; }
    /// <summary>Blob port; 0 picks a free loopback port.</summary>
    public int BlobPort { get; set; }
    /// <summary>Queue port; 0 picks a free loopback port.</summary>
    public int QueuePort { get; set; }
    /// <summary>Table port; 0 picks a free loopback port. Durable's storage backend needs tables in Azure; locally unused but started for parity.</summary>
    public int TablePort { get; set; }
    /// <summary>Folder for Azurite's data (kept across restarts). Null means in-memory persistence (tests).</summary>
    public string? Location { get; set; }
    /// <summary>PEM certificate and key: Azurite serves https (both or neither).</summary>
    public string? CertificatePath { get; set; }
    public string? KeyPath { get; set; }
    /// <summary>Azurite's "basic" OAuth: bearer tokens are accepted and checked (audience, issuer, lifetime; not the
    /// signature). Needs https.</summary>
    public bool OAuth { get; set; }
    /// <summary>How long to wait for the ports to accept connections.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(90); // node starts in ~1 s, but far slower on a loaded machine
}

/// <summary>
/// Starts Azurite from the repository's node_modules on loopback, waits until its ports accept connections,
/// and stops it by process id. Used by the tests and the demo; a user with a real storage account sets
/// AzureWebJobsStorage instead and never starts this.
/// </summary>
public sealed partial class AzuriteServer : IAsyncDisposable, IDisposable
{
    /// <summary>Azurite's well-known development account (public, documented by Microsoft).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly string _stderrPath;

    private AzuriteServer(Process process, int blobPort, int queuePort, int tablePort, string stderrPath, string? location, bool https)
    {
        _process = process; BlobPort = blobPort; QueuePort = queuePort; TablePort = tablePort; _stderrPath = stderrPath; Location = location;
        Scheme = https ? "https" : "http";
    }

    /// <summary>"https" when started with a certificate, else "http".</summary>
    public string Scheme { get; }

    /// <summary>The blob and queue endpoints of the development account (for identity-based connections).</summary>
    public Uri BlobServiceUri => new($"{Scheme}://127.0.0.1:{BlobPort}/{AccountName}");
    public Uri QueueServiceUri => new($"{Scheme}://127.0.0.1:{QueuePort}/{AccountName}");

    /// <summary>The data folder (--location), or null for in-memory persistence.</summary>
    public string? Location { get; }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }
    public int ProcessId => _process.Id;

    /// <summary>A connection string for this instance (explicit endpoints, so non-default ports work).</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol={Scheme};AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint={Scheme}://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint={Scheme}://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint={Scheme}://127.0.0.1:{TablePort}/{AccountName};";

    public static async Task<AzuriteServer> StartAsync(AzuriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AzuriteOptions();
        string root = options.RepositoryRoot ?? FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("Azurite: could not find node_modules/azurite above " + AppContext.BaseDirectory + "; run infra/setup.sh first.");
        string script = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
            throw new FileNotFoundException($"Azurite is not installed at {script}; run infra/setup.sh.", script);

        int blob = options.BlobPort != 0 ? options.BlobPort : FreePort();
        int queue = options.QueuePort != 0 ? options.QueuePort : FreePort(blob);
        int table = options.TablePort != 0 ? options.TablePort : FreePort(blob, queue);

        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(script);
        foreach (var a in new[] { "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
                     "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
                     "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
                     "--tableHost", "127.0.0.1", "--tablePort", table.ToString() })
            psi.ArgumentList.Add(a);
        bool https = options.CertificatePath is not null;
        if (https != (options.KeyPath is not null)) throw new ArgumentException("Azurite: CertificatePath and KeyPath go together.", nameof(options));
        if (options.OAuth && !https) throw new ArgumentException("Azurite: OAuth needs https (CertificatePath and KeyPath).", nameof(options));
        if (https) foreach (var a in new[] { "--cert", options.CertificatePath!, "--key", options.KeyPath! }) psi.ArgumentList.Add(a);
        if (options.OAuth) { psi.ArgumentList.Add("--oauth"); psi.ArgumentList.Add("basic"); }
        if (options.Location is null) psi.ArgumentList.Add("--inMemoryPersistence");
        else
        {
            Directory.CreateDirectory(options.Location);
            psi.ArgumentList.Add("--location"); psi.ArgumentList.Add(options.Location);
        }

        string stderrPath = Path.Combine(Path.GetTempPath(), $"azurite-{Guid.NewGuid():N}.log");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("Azurite: failed to start node.");
        var log = new StreamWriter(stderrPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine(); process.BeginErrorReadLine();

        var server = new AzuriteServer(process, blob, queue, table, stderrPath, options.Location, https);
        var deadline = DateTime.UtcNow + options.StartTimeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} while starting: {ReadLog(stderrPath)}");
            if (await Accepts(blob) && await Accepts(queue) && await Accepts(table)) return server;
            if (DateTime.UtcNow > deadline)
            {
                server.Dispose();
                throw new TimeoutException($"Azurite did not accept connections on ports {blob}/{queue}/{table} within {options.StartTimeout.TotalSeconds:0} s: {ReadLog(stderrPath)}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Walks up from <paramref name="start"/> to the folder holding node_modules/azurite.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "node_modules", "azurite"))) return dir.FullName;
        return null;
    }

    private static string ReadLog(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path).Trim() : ""; } catch (IOException) { return ""; }
    }

    private static async Task<bool> Accepts(int port)
    {
        using var client = new TcpClient();
        try { await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(1)); return true; }
        catch (Exception e) when (e is SocketException or TimeoutException) { return false; }
    }

    private static int FreePort(params int[] avoid)
    {
        while (true)
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            if (!avoid.Contains(port)) return port;
        }
    }

    /// <summary>
    /// Stops the process by its id. With a --location, it is first asked to shut down (SIGTERM: Azurite closes its
    /// servers and saves its LokiJS databases, which it otherwise writes only every few seconds) and killed only if it
    /// has not exited within <paramref name="grace"/>; in-memory instances are killed at once (nothing to keep).
    /// Returns false when a --location instance had to be killed: writes it acknowledged in its last seconds may be
    /// lost (a storage that loses acknowledged writes, not an outage).
    /// </summary>
    public bool Stop(TimeSpan grace)
    {
        try
        {
            if (_process.HasExited) return true;
            if (Location is not null && grace > TimeSpan.Zero && OperatingSystem.IsLinux() && SendSignal(_process.Id, SigTerm) == 0
                && _process.WaitForExit(grace))
                return true;
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
            return Location is null;
        }
        catch (InvalidOperationException) { return true; } // already gone
    }

    /// <summary>Ends the process at once, as a crash would (data not yet saved under --location is lost).</summary>
    public void Kill() => Stop(TimeSpan.Zero);

    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    /// <summary>Stops the process (gracefully when it has a --location) and releases it.</summary>
    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(10));
        _process.Dispose();
        try { File.Delete(_stderrPath); } catch (IOException) { }
    }

    public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
}
