using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs;
using DurableTask.Core.History;
using Pipeline.EngineHarness;
using Pipeline.Host.TaskHub;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>tests/Pipeline.EngineHarness as a child process: a Durable Task worker on a test hub running the toy
/// fan-out. <see cref="Kill"/> is SIGKILL: no shutdown code runs, leases and dequeued messages are left behind.</summary>
internal sealed class HarnessProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HarnessProcess(Process process) { _process = process; }

    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Completes when the worker runs and the instance is scheduled (or found scheduled).</summary>
    public Task Up => _up.Task;

    public static HarnessProcess Start(string connectionString, string hub, BlobContainerClient toy, string instance, int items, int delayMs, int concurrency = 4, int children = 0)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Pipeline.EngineHarness.dll");
        Assert.True(File.Exists(dll), $"harness not built next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in new[] { "--connection", connectionString, "--hub", hub, "--toy-container", toy.Name, "--instance", instance,
                     "--items", items.ToString(), "--delay-ms", delayMs.ToString(), "--concurrency", concurrency.ToString() })
            psi.ArgumentList.Add(a);
        if (children > 0) { psi.ArgumentList.Add("--children"); psi.ArgumentList.Add(children.ToString()); }
        var harness = new HarnessProcess(Process.Start(psi)!);
        harness._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            harness._lines.Enqueue(e.Data);
            if (e.Data is "scheduled" or "resuming") harness._up.TrySetResult();
        };
        harness._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) harness._lines.Enqueue(e.Data); };
        harness._process.BeginOutputReadLine();
        harness._process.BeginErrorReadLine();
        return harness;
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        return await Task.WhenAny(exited, Task.Delay(timeout)) == exited;
    }

    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public string Tail(int lines = 30) => string.Join('\n', _lines.TakeLast(lines));

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>The toy items whose WriteItem result is in the instance's committed history (read from each
    /// TaskCompleted's result, which names its item).</summary>
    public static async Task<List<int>> CommittedItemsAsync(TaskHubOrchestrationClient client, string instance)
    {
        var history = await client.GetHistoryAsync(instance);
        var writeCalls = history.Where(h => h.Type == EventType.TaskScheduled && h.Name == WriteItem.ActivityName).Select(h => h.EventId).ToHashSet();
        return history.Where(h => h.Type == EventType.TaskCompleted && writeCalls.Contains(h.TaskScheduledId!.Value))
            .Select(h => JsonDocument.Parse(h.Result ?? throw new InvalidDataException($"{instance}: TaskCompleted {h.EventId} has no result"))
                .RootElement.GetProperty("item").GetInt32()).ToList();
    }

    /// <summary>Process ids that ran toy activities (from the marker blob names).</summary>
    public static async Task<HashSet<string>> ActivityProcessesAsync(BlobContainerClient toy)
    {
        var pids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var b in toy.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "markers/", default))
            pids.Add(b.Name.Split('/')[^1].Split('-')[0]);
        return pids;
    }
}
