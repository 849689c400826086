using Azure.Storage.Blobs.Models;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Pipeline.Core.Contracts;
using Pipeline.Host.TaskHub;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.EndToEnd.Tests;

/// <summary>
/// <c>pipeline serve --role ... --no-azurite</c> as a child process (the CLI dll built next to the tests) over a
/// test Azurite, with short poll intervals. <see cref="Kill"/> is SIGKILL: no shutdown code runs.
/// </summary>
public sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _running = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _scratch;

    private ServeProcess(Process process, string scratch) { _process = process; _scratch = scratch; }

    public string Role { get; private init; } = "all";
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote (stdout and stderr, in arrival order).</summary>
    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Starts serve; <paramref name="settings"/> become environment variables (':' written as '__').</summary>
    public static ServeProcess Start(string connectionString, string role, string modelCache, IReadOnlyDictionary<string, string>? settings = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "pipeline.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"the CLI is not built next to the tests: {dll}");
        // an empty repository root: no local.settings.json of the checkout leaks into the child
        string scratch = Path.Combine(Path.GetTempPath(), $"e2e-serve-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = scratch,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in new[] { "serve", "--role", role, "--no-azurite" }) psi.ArgumentList.Add(a);
        var env = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["PIPELINE_REPO_ROOT"] = scratch,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Pipeline:Engine:ClientPollInterval"] = "00:00:00.200",
            ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
            // a shard killed mid-inference is redelivered after this (default 30 s, renewed every 10 s while sampling)
            ["Pipeline:InferenceWorker:VisibilityTimeout"] = "00:00:10",
            ["Pipeline:InferenceWorker:VisibilityRenewInterval"] = "00:00:03",
            ["Pipeline:Models:CacheDirectory"] = modelCache,
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Azure"] = "Warning",
        };
        if (settings != null) foreach (var (k, v) in settings) env[k] = v;
        foreach (var (k, v) in env) psi.Environment[k.Replace(":", "__")] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var serve = new ServeProcess(p, scratch) { Role = role };
        void OnLine(string? line)
        {
            if (line is null) return;
            serve._lines.Enqueue(line);
            if (line.Contains("[serve] running", StringComparison.Ordinal)) serve._running.TrySetResult();
        }
        p.OutputDataReceived += (_, e) => OnLine(e.Data);
        p.ErrorDataReceived += (_, e) => OnLine(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _ = p.WaitForExitAsync().ContinueWith(_ => serve._running.TrySetException(
            new InvalidOperationException($"serve --role {role} exited with {p.ExitCode} before running:\n{serve.Tail()}")), TaskScheduler.Default);
        return serve;
    }

    /// <summary>Completes when serve printed that it runs (its hosted services started).</summary>
    public async Task WaitRunningAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(_running.Task, Task.Delay(timeout)) != _running.Task)
            throw new TimeoutException($"serve --role {Role} did not start within {timeout}:\n{Tail()}");
        await _running.Task;
    }

    /// <summary>SIGKILL of the process (and anything it started).</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public string Tail(int lines = 40) => string.Join('\n', _lines.TakeLast(lines));

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        try { Directory.Delete(_scratch, recursive: true); } catch (IOException) { }
    }
}

/// <summary>What the crash and role tests read back from storage.</summary>
public static class RunStorage
{
    /// <summary>The engine (the Durable Task Framework on the default task hub) without a worker: its client only
    /// schedules, signals and reads instances.</summary>
    public static TaskHubEngine Engine(string connectionString) =>
        new(new TaskHubOptions { ConnectionString = connectionString, ClientPollInterval = TimeSpan.FromMilliseconds(200) });

    public static TaskHubOrchestrationClient Client(string connectionString) => Engine(connectionString).Client;

    public static Task SubmitAsync(string connectionString, AugmentationRequest request) =>
        QueueMessages.SendAsync(new PipelineStorage(connectionString).Queue(StorageLayout.AugmentRequestsQueue), PipelineJson.SerializeToUtf8Bytes(request));

    /// <summary>SHA-256 of the content of every blob under runs/{runId}/{prefix} (computed here, not from metadata).</summary>
    public static async Task<SortedDictionary<string, string>> HashesAsync(string connectionString, string runId, string prefix)
    {
        var storage = new PipelineStorage(connectionString);
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (var e in storage.Run(runId).ListAsync(prefix))
        {
            var content = (await storage.ReadAsync(e.Path))!;
            hashes[e.Path.Name] = Convert.ToHexStringLower(SHA256.HashData(content.ToArray()));
        }
        return hashes;
    }

    public static async Task<int> CountAsync(string connectionString, string runId, string prefix)
    {
        int n = 0;
        await foreach (var _ in new PipelineStorage(connectionString).Run(runId).ListAsync(prefix)) n++;
        return n;
    }

    /// <summary>Ids of the run's instance and its sub-orchestrations (instances whose parent chain leads to the run;
    /// children's ids start with the run's id).</summary>
    public static async Task<List<string>> InstanceIdsAsync(string connectionString, string runId)
    {
        var engine = Engine(connectionString);
        var parents = new Dictionary<string, string?>(StringComparer.Ordinal);
        var condition = new DurableTask.AzureStorage.Tracking.OrchestrationInstanceStatusQueryCondition { InstanceIdPrefix = runId, FetchInput = false, FetchOutput = false };
        string? token = null;
        do
        {
            var page = await engine.Service.GetOrchestrationStateAsync(condition, 100, token!);
            foreach (var s in page.OrchestrationState)
                parents[s.OrchestrationInstance.InstanceId] = s.ParentInstance?.OrchestrationInstance?.InstanceId;
            token = page.ContinuationToken;
        } while (!string.IsNullOrEmpty(token));
        bool InRun(string id)
        {
            for (string? cur = id; cur != null; cur = parents.GetValueOrDefault(cur))
                if (cur == runId) return true;
            return false;
        }
        return parents.Keys.Where(InRun).Order(StringComparer.Ordinal).ToList();
    }
}
