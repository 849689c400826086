using Azure.Storage.Blobs.Models;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Engine;
using Pipeline.Storage.Azurite;

namespace Pipeline.Bench.Engine;

/// <summary>
/// Engine overhead of a fan-out of no-op activities on Azurite, and peak memory, at several sizes (each size in its own
/// process so that peaks do not mix). The peer is the same no-op activities run with plain Task.WhenAll behind a
/// SemaphoreSlim of the same width (no durability): the difference is the engine's cost. A second engine then resumes
/// the finished fan-out from its checkpoint log (replay cost).
/// <c>dotnet run -c Release --project bench/Pipeline.Bench -- engine [--sizes 1000,5000,10000] [--concurrency 16]</c>
/// </summary>
public sealed class EngineFanOutBenchmark : IBenchmark
{
    public string Name => "engine";
    public string Description => "durable engine: per-activity overhead and peak memory of a no-op fan-out on Azurite";

    public async Task<int> RunAsync(string[] args)
    {
        var opts = ParseArgs(args);
        if (opts.ContainsKey("child")) return await RunChildAsync(opts);

        int[] sizes = opts.GetValueOrDefault("sizes", "1000,5000,10000").Split(',').Select(int.Parse).ToArray();
        string concurrency = opts.GetValueOrDefault("concurrency", "16");
        await using var azurite = await AzuriteServer.StartAsync();
        var rows = new JsonArray();
        Console.WriteLine($"{"items",7} {"engine ms",10} {"peer ms",9} {"ms/item",8} {"replay ms",10} {"appends",8} {"peak heap MB",13} {"peak RSS MB",12}");
        int repeat = int.Parse(opts.GetValueOrDefault("repeat", "3"), CultureInfo.InvariantCulture);
        foreach (int n in sizes)
        {
            // Each repetition in a fresh process; the median run (by engine time) is reported, the machine being shared.
            var runs = new List<JsonObject>();
            for (int r = 0; r < repeat; r++)
            {
                var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
                foreach (var a in new[] { typeof(EngineFanOutBenchmark).Assembly.Location, "engine", "--child", n.ToString(CultureInfo.InvariantCulture),
                             "--connection", azurite.ConnectionString, "--concurrency", concurrency, "--run", r.ToString(CultureInfo.InvariantCulture) })
                    psi.ArgumentList.Add(a);
                using var p = Process.Start(psi)!;
                string? line = null, l;
                while ((l = await p.StandardOutput.ReadLineAsync()) is not null) if (l.StartsWith('{')) line = l;
                await p.WaitForExitAsync();
                if (p.ExitCode != 0 || line is null) { Console.Error.WriteLine($"engine benchmark child for {n} items failed (exit {p.ExitCode})"); return 1; }
                runs.Add(JsonNode.Parse(line)!.AsObject());
            }
            var row = runs.OrderBy(x => (double)x["engineMs"]!).ElementAt(runs.Count / 2);
            row["engineMsAllRuns"] = new JsonArray(runs.Select(x => (JsonNode)JsonValue.Create((double)x["engineMs"]!)).ToArray());
            row["peakRssMBMax"] = runs.Max(x => (double)x["peakRssMB"]!);
            rows.Add(row);
            Console.WriteLine($"{n,7} {row["engineMs"],10} {row["peerMs"],9} {row["overheadMsPerItem"],8} {row["replayMs"],10} {row["logAppends"],8} {row["peakManagedHeapMB"],13} {row["peakRssMB"],12}");
        }

        var first = rows[0]!; var last = rows[^1]!;
        double heapPerItem = rows.Count < 2 ? 0 : ((double)last["peakManagedHeapMB"]! - (double)first["peakManagedHeapMB"]!) * 1024 * 1024
                             / ((int)last["items"]! - (int)first["items"]!);
        var result = new JsonObject
        {
            ["benchmark"] = Name,
            ["description"] = "Fan-out of N no-op activities through the local durable engine on Azurite 3.37.0 (in-memory), per-activity " +
                              "concurrency " + concurrency + "; peer: the same activities with Task.WhenAll + SemaphoreSlim (no checkpoints). " +
                              "engineMs: schedule until all N + 1 outcomes are durable in the checkpoint log. overheadMsPerItem = (engineMs - peerMs) / N. replayMs: a fresh engine resumes the finished fan-out from its log.",
            ["command"] = "dotnet run -c Release --project bench/Pipeline.Bench -- engine",
            ["date"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
            ["machine"] = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["loadAverage1m"] = ReadLoadAverage(),
                ["note"] = "shared 2-core machine; other builds ran at the same time, so times are upper bounds",
            },
            ["targetMsPerItem"] = 5.0,
            ["results"] = rows,
            ["heapBytesPerExtraItem"] = Math.Round(heapPerItem),
        };
        string root = AzuriteServer.FindRepositoryRoot(AppContext.BaseDirectory) ?? Directory.GetCurrentDirectory();
        string path = Path.Combine(root, "bench", "results", "engine.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"heap per extra item: {heapPerItem:0} B; wrote {path}");
        return 0;
    }

    private static Dictionary<string, string> ParseArgs(string[] args)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'");
            d[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
        }
        return d;
    }

    private static double ReadLoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (IOException) { return double.NaN; }
    }

    private static double PeakRssMB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return Math.Round(long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0, 1);
        return double.NaN;
    }

    /// <summary>The no-op fan-out, then a checkpoint-only step and a wait, so a second engine can measure replay.</summary>
    private sealed class BenchFanOut : Orchestrator<int, int>
    {
        public override async Task<int> RunAsync(IRunContext context, int items)
        {
            await Task.WhenAll(Enumerable.Range(0, items).Select(i => context.CallActivityAsync<int>("Noop", i)));
            await context.CallActivityAsync("FanOutDone", null);
            return await context.WaitForExternalEventAsync<int>("finish");
        }
    }

    private sealed class Noop : IActivity
    {
        public string Name => "Noop";
        public Task<object?> RunAsync(JsonElement input, CancellationToken cancellationToken) => Task.FromResult<object?>(input.GetInt32());
    }

    private static async Task<int> RunChildAsync(Dictionary<string, string> opts)
    {
        int n = int.Parse(opts["child"], CultureInfo.InvariantCulture);
        int concurrency = int.Parse(opts.GetValueOrDefault("concurrency", "16"), CultureInfo.InvariantCulture);
        var options = new DurableEngineOptions
        {
            ConnectionString = opts["connection"],
            ContainerName = $"bench-engine-{n}-{opts.GetValueOrDefault("run", "0")}",
            StatusContainerName = $"bench-runs-{n}-{opts.GetValueOrDefault("run", "0")}",
            DefaultActivityConcurrency = concurrency,
        };
        var fanOutDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        OrchestrationRegistry Registry() => new OrchestrationRegistry().Add(new BenchFanOut()).Add(new Noop())
            .AddActivity("FanOutDone", (_, _) => { fanOutDone.TrySetResult(); return Task.FromResult<object?>(null); });

        // Warm up the JIT and the connection pool on a small run, so the timings are the steady state.
        await RunEngineOnceAsync(options, Registry, "warm-up", 200, () => fanOutDone, t => fanOutDone = t);

        // Peer: the same activity calls without the engine.
        var noop = new Noop();
        using var gate = new SemaphoreSlim(concurrency);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(i, OrchestrationJson.Options);
                using var doc = JsonDocument.Parse(json);
                var r = await Task.Run(() => noop.RunAsync(doc.RootElement, default));
                _ = JsonSerializer.Serialize(r, OrchestrationJson.Options);
            }
            finally { gate.Release(); }
        }));
        double peerMs = sw.Elapsed.TotalMilliseconds;

        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long baseHeap = GC.GetTotalMemory(true);
        var sampler = new HeapSampler();
        var (engineMs, replayMs, appends) = await RunEngineOnceAsync(options, Registry, "fan-out", n, () => fanOutDone, t => fanOutDone = t);
        long peakHeap = sampler.Stop();
        var log = await new BlobCheckpointStore(options).ReadLogAsync("fan-out").ToListAsync();
        int noops = log.Count(r => r.Name == "Noop" && !r.Failed);
        if (noops != n) throw new InvalidOperationException($"the log holds {noops} Noop outcomes, expected {n}");

        var row = new JsonObject
        {
            ["items"] = n,
            ["engineMs"] = Math.Round(engineMs, 1),
            ["peerMs"] = Math.Round(peerMs, 1),
            ["overheadMsPerItem"] = Math.Round((engineMs - peerMs) / n, 4),
            ["replayMs"] = Math.Round(replayMs, 1),
            ["replayMsPerItem"] = Math.Round(replayMs / n, 4),
            ["logRecords"] = log.Count,
            ["logAppends"] = appends,
            ["peakManagedHeapMB"] = Math.Round(peakHeap / 1048576.0, 1),
            ["heapBeforeRunMB"] = Math.Round(baseHeap / 1048576.0, 1),
            ["peakRssMB"] = PeakRssMB(),
        };
        Console.WriteLine(row.ToJsonString());
        return 0;
    }

    /// <summary>Fan-out on engine 1 (timed until every outcome is checkpointed and the engine stopped), then
    /// engine 2 replays the log and finishes (timed from start to completion).</summary>
    private static async Task<(double EngineMs, double ReplayMs, int Appends)> RunEngineOnceAsync(
        DurableEngineOptions options, Func<OrchestrationRegistry> registry, string id, int n,
        Func<TaskCompletionSource> done, Action<TaskCompletionSource> reset)
    {
        reset(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var store = new BlobCheckpointStore(options);
        var engine1 = new DurableEngine(store, registry(), options);
        await engine1.StartAsync();
        var sw = Stopwatch.StartNew();
        await engine1.Client.ScheduleNewAsync(nameof(BenchFanOut), id, n);
        await done().Task;
        // Stopping flushes the checkpoint log, so the time includes making all N + 1 outcomes durable.
        await engine1.StopAsync();
        double engineMs = sw.Elapsed.TotalMilliseconds;

        int appends = 0;
        var container = new BlobContainerClient(options.ConnectionString, options.ContainerName);
        await foreach (var b in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, $"instances/{id}/log/", default))
            appends += (await container.GetAppendBlobClient(b.Name).GetPropertiesAsync()).Value.BlobCommittedBlockCount;

        await engine1.Client.RaiseEventAsync(id, "finish", n);
        var engine2 = new DurableEngine(store, registry(), options);
        sw.Restart();
        await engine2.StartAsync();
        var final = await engine2.Client.WaitForCompletionAsync(id);
        double replayMs = sw.Elapsed.TotalMilliseconds;
        await engine2.StopAsync();
        if (final.ReadOutput<int>() != n) throw new InvalidOperationException($"benchmark run {id} returned {final.Output}");
        return (engineMs, replayMs, appends);
    }

    /// <summary>Samples the managed heap every 5 ms (the peak of a run, not just its end).</summary>
    private sealed class HeapSampler
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _peak;

        public HeapSampler()
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    long now = GC.GetTotalMemory(false);
                    if (now > _peak) _peak = now;
                    try { await Task.Delay(5, _stop.Token); } catch (OperationCanceledException) { }
                }
            });
        }

        public long Stop()
        {
            _stop.Cancel();
            _loop.Wait();
            return _peak;
        }
    }
}
