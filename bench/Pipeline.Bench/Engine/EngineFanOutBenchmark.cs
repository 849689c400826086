using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Orchestration;
using Pipeline.Host.TaskHub;
using Pipeline.Storage.Azurite;

namespace Pipeline.Bench.Engine;

/// <summary>
/// Engine overhead of a fan-out of no-op activities on Azurite, and peak memory, at several sizes (each size in its own
/// process so that peaks do not mix). The engine is the local host's: the Durable Task Framework's TaskHubWorker over
/// its Azure Storage provider with the default <see cref="TaskHubOptions"/>. The peer is the same no-op activities run
/// with plain Task.WhenAll behind a SemaphoreSlim of the same width (no durability): the difference is the engine's
/// cost. A second worker then resumes the finished fan-out from its history (resume cost, including the partition
/// lease handover). The home-made engine this replaced was measured the same way: bench/results/engine-homemade.json.
/// <c>--group 1000</c> runs a size above 1,000 as sub-orchestrations of 1,000 activities each (in parallel, under one
/// parent), as a run groups its shards, instead of one instance holding every call: a single instance's history grows
/// with every call and each step's commit and any reload carry it. Azurite's CPU time and this process's are reported
/// per activity, to show where the time goes. <c>--parallel-groups K</c> runs the groups K at a time (default: all at
/// once): on Azurite a dequeue costs time in proportion to the queue's depth (measured below), so 10,000 calls queued
/// at once drain at a fraction of the rate of 1,000.
/// <c>dotnet run -c Release --project bench/Pipeline.Bench -- engine [--sizes 1000,10000] [--group 1000] [--parallel-groups K] [--concurrency 16] [--repeat 1]</c>
/// </summary>
public sealed class EngineFanOutBenchmark : IBenchmark
{
    public string Name => "engine";
    public string Description => "durable engine: per-activity overhead and peak memory of a no-op fan-out on Azurite";

    public async Task<int> RunAsync(string[] args)
    {
        var opts = ParseArgs(args);
        if (opts.ContainsKey("child")) return await RunChildAsync(opts);

        int[] sizes = opts.GetValueOrDefault("sizes", "1000,10000").Split(',').Select(int.Parse).ToArray();
        string concurrency = opts.GetValueOrDefault("concurrency", "16");
        string group = opts.GetValueOrDefault("group", "0");
        string parallelGroups = opts.GetValueOrDefault("parallel-groups", "0");
        await using var azurite = await AzuriteServer.StartAsync();
        var rows = new JsonArray();
        Console.WriteLine($"{"items",7} {"engine ms",10} {"peer ms",9} {"ms/item",8} {"resume ms",10} {"start ms",9} {"peak heap MB",13} {"peak RSS MB",12}");
        int repeat = int.Parse(opts.GetValueOrDefault("repeat", "1"), CultureInfo.InvariantCulture);
        foreach (int n in sizes)
        {
            // Each repetition in a fresh process; the median run (by engine time) is reported, the machine being shared.
            var runs = new List<JsonObject>();
            for (int r = 0; r < repeat; r++)
            {
                var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
                foreach (var a in new[] { typeof(EngineFanOutBenchmark).Assembly.Location, "engine", "--child", n.ToString(CultureInfo.InvariantCulture),
                             "--connection", azurite.ConnectionString, "--concurrency", concurrency, "--run", r.ToString(CultureInfo.InvariantCulture),
                             "--group", group, "--parallel-groups", parallelGroups, "--azurite-pid", azurite.ProcessId.ToString(CultureInfo.InvariantCulture) })
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
            Console.WriteLine($"{n,7} {row["engineMs"],10} {row["peerMs"],9} {row["overheadMsPerItem"],8} {row["resumeMs"],10} {row["workerStartMs"],9} {row["peakManagedHeapMB"],13} {row["peakRssMB"],12}" +
                              $"  layout {row["layout"]}, CPU ms/activity: Azurite {row["azuriteCpuMsPerItem"]}, worker {row["workerCpuMsPerItem"]}");
        }

        // The storage emulator's share: Azurite (LokiJS) finds and sorts every visible message of a queue on each
        // dequeue, so one dequeue costs time in proportion to the queue's depth; a fan-out puts all its calls in the
        // work-item queue at once (and their results in a control queue).
        var dequeue = new JsonObject();
        foreach (int depth in new[] { 100, 1000, 10000 })
        {
            double ms = await AzuriteDequeueMsAsync(azurite.ConnectionString, depth);
            dequeue[depth.ToString(CultureInfo.InvariantCulture)] = Math.Round(ms, 2);
            Console.WriteLine($"Azurite: receive + delete of one message from a queue {depth} deep: {ms:F2} ms");
        }

        var first = rows[0]!; var last = rows[^1]!;
        double heapPerItem = rows.Count < 2 ? 0 : ((double)last["peakManagedHeapMB"]! - (double)first["peakManagedHeapMB"]!) * 1024 * 1024
                             / ((int)last["items"]! - (int)first["items"]!);
        var result = new JsonObject
        {
            ["benchmark"] = Name,
            ["description"] = "Fan-out of N no-op activities through the local engine (Durable Task Framework 3.11.2, Azure Storage provider 2.11.2, " +
                              "default TaskHubOptions, activity concurrency " + concurrency + ") on Azurite 3.37.0 (in-memory); peer: the same activities with " +
                              "Task.WhenAll + SemaphoreSlim (no durability). engineMs: schedule until the orchestrator has all N results (they are " +
                              "committed in its history before the next activity is scheduled). overheadMsPerItem = (engineMs - peerMs) / N. " +
                              "resumeMs: a second worker, started after the first stopped, takes the partition and replays the history to finish. " +
                              "workerStartMs: StartAsync of the first worker. layout: one orchestration holding every call, or (--group) sub-orchestrations " +
                              "of that many activities under one parent, as a run groups its shards (--parallel-groups: that many at a time). azuriteCpuMsPerItem / workerCpuMsPerItem: CPU time of " +
                              "the Azurite process and of this process during the fan-out, per activity. before: the home-made engine it replaced.",
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
            ["azuriteDequeueMsByQueueDepth"] = dequeue,
            ["heapBytesPerExtraItem"] = Math.Round(heapPerItem),
        };
        string root = AzuriteServer.FindRepositoryRoot(AppContext.BaseDirectory) ?? Directory.GetCurrentDirectory();
        // the engine this one replaced, measured the same way before it was removed, side by side (labelled, from its file)
        string before = Path.Combine(root, "bench", "results", "engine-homemade.json");
        if (File.Exists(before) && JsonNode.Parse(await File.ReadAllTextAsync(before)) is JsonObject homeMade)
            result["before"] = new JsonObject
            {
                ["engine"] = "the home-made engine (append-blob checkpoint log), removed; from bench/results/engine-homemade.json",
                ["date"] = homeMade["date"]?.DeepClone(),
                ["machine"] = homeMade["machine"]?.DeepClone(),
                ["results"] = homeMade["results"]?.DeepClone(),
            };
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

    /// <summary>Input of the fan-out: <see cref="Items"/> no-op activities, in sub-orchestrations of <see cref="Group"/>
    /// each when Group is positive and smaller than Items.</summary>
    private sealed record FanOutInput(int Items, int Group, int ParallelGroups = 0);

    /// <summary>The no-op fan-out (flat, or grouped into <see cref="BenchGroup"/> children), then a checkpoint-only step
    /// and a wait, so a second engine can measure replay.</summary>
    private sealed class BenchFanOut : Orchestrator<FanOutInput, int>
    {
        public override async Task<int> RunAsync(IRunContext context, FanOutInput input)
        {
            if (input.Group > 0 && input.Group < input.Items)
            {
                var groups = Enumerable.Range(0, (input.Items + input.Group - 1) / input.Group).ToList();
                foreach (var wave in groups.Chunk(input.ParallelGroups > 0 ? input.ParallelGroups : groups.Count))
                    await Task.WhenAll(wave.Select(g => context.CallSubOrchestratorAsync<int>(nameof(BenchGroup), $"{context.InstanceId}-g{g:D4}",
                        new GroupInput(g * input.Group, Math.Min(input.Group, input.Items - g * input.Group)))));
            }
            else
                await Task.WhenAll(Enumerable.Range(0, input.Items).Select(i => context.CallActivityAsync<int>("Noop", i)));
            await context.CallActivityAsync("FanOutDone", null);
            return await context.WaitForExternalEventAsync<int>("finish");
        }
    }

    private sealed record GroupInput(int First, int Count);

    /// <summary>One group of the grouped fan-out: <see cref="GroupInput.Count"/> no-op activities.</summary>
    private sealed class BenchGroup : Orchestrator<GroupInput, int>
    {
        public override async Task<int> RunAsync(IRunContext context, GroupInput input)
        {
            var results = await Task.WhenAll(Enumerable.Range(input.First, input.Count).Select(i => context.CallActivityAsync<int>("Noop", i)));
            return results.Length;
        }
    }

    /// <summary>Mean time to receive and delete one message (one at a time, as the framework takes activities) from a
    /// queue holding <paramref name="depth"/> messages, over 100 messages.</summary>
    private static async Task<double> AzuriteDequeueMsAsync(string connectionString, int depth)
    {
        var queue = new Azure.Storage.Queues.QueueClient(connectionString, $"depth{depth}");
        await queue.CreateIfNotExistsAsync();
        for (int sent = 0; sent < depth; sent += 50)
            await Task.WhenAll(Enumerable.Range(sent, Math.Min(50, depth - sent)).Select(i => queue.SendMessageAsync(i.ToString(CultureInfo.InvariantCulture))));
        const int samples = 100;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < samples; i++)
        {
            var message = (await queue.ReceiveMessageAsync(TimeSpan.FromMinutes(5))).Value;
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }
        double ms = sw.Elapsed.TotalMilliseconds / samples;
        await queue.DeleteAsync();
        return ms;
    }

    /// <summary>CPU time (user + system) of a process, from /proc (Azurite is another process).</summary>
    private static double ProcessCpuMs(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks * 10.0; // USER_HZ = 100 on Linux
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return double.NaN; }
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
        int group = int.Parse(opts.GetValueOrDefault("group", "0"), CultureInfo.InvariantCulture);
        int parallelGroups = int.Parse(opts.GetValueOrDefault("parallel-groups", "0"), CultureInfo.InvariantCulture);
        int azuritePid = int.Parse(opts.GetValueOrDefault("azurite-pid", "0"), CultureInfo.InvariantCulture);
        string run = opts.GetValueOrDefault("run", "0");
        TaskHubOptions Options(string hub) => new()
        {
            ConnectionString = opts["connection"], TaskHubName = hub, StatusContainerName = hub + "-runs",
            MaxConcurrentActivities = concurrency, ClientPollInterval = TimeSpan.FromMilliseconds(50),
        };
        var fanOutDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        OrchestrationRegistry Registry() => new OrchestrationRegistry().Add(new BenchFanOut()).Add(new BenchGroup()).Add(new Noop())
            .AddActivity("FanOutDone", (_, _) => { fanOutDone.TrySetResult(); return Task.FromResult<object?>(null); });

        // Warm up the JIT and the connection pool on a small run, so the timings are the steady state.
        await RunEngineOnceAsync(Options($"benchwarm{n}r{run}"), Registry, "warm-up", new FanOutInput(200, 0), () => fanOutDone, t => fanOutDone = t, azuritePid);

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
        var options = Options($"bench{n}r{run}");
        bool grouped = group > 0 && group < n;
        var (engineMs, resumeMs, startMs, completions, azuriteCpuMs, workerCpuMs) =
            await RunEngineOnceAsync(options, Registry, "fan-out", new FanOutInput(n, group, parallelGroups), () => fanOutDone, t => fanOutDone = t, azuritePid);
        long peakHeap = sampler.Stop();
        if (completions != n + 1) throw new InvalidOperationException($"the history holds {completions} activity outcomes, expected {n + 1}");

        var row = new JsonObject
        {
            ["items"] = n,
            ["layout"] = grouped ? $"{(n + group - 1) / group} sub-orchestrations of {group}, " +
                                   (parallelGroups > 0 ? $"{parallelGroups} at a time" : "all at once") : "one orchestration",
            ["engineMs"] = Math.Round(engineMs, 1),
            ["peerMs"] = Math.Round(peerMs, 1),
            ["overheadMsPerItem"] = Math.Round((engineMs - peerMs) / n, 4),
            ["resumeMs"] = Math.Round(resumeMs, 1),
            ["workerStartMs"] = Math.Round(startMs, 1),
            ["historyActivityOutcomes"] = completions,
            ["azuriteCpuMsPerItem"] = Math.Round(azuriteCpuMs / n, 2),
            ["workerCpuMsPerItem"] = Math.Round(workerCpuMs / n, 2),
            ["peakManagedHeapMB"] = Math.Round(peakHeap / 1048576.0, 1),
            ["heapBeforeRunMB"] = Math.Round(baseHeap / 1048576.0, 1),
            ["peakRssMB"] = PeakRssMB(),
        };
        Console.WriteLine(row.ToJsonString());
        return 0;
    }

    /// <summary>Fan-out on worker 1 (timed from scheduling until the orchestrator scheduled FanOutDone, i.e. all N
    /// outcomes are in its committed history), then worker 1 stops, worker 2 starts, the "finish" event is raised and
    /// worker 2 takes the partition, replays the history and completes (timed from the event).</summary>
    private static async Task<(double EngineMs, double ResumeMs, double StartMs, int Completions, double AzuriteCpuMs, double WorkerCpuMs)> RunEngineOnceAsync(
        TaskHubOptions options, Func<OrchestrationRegistry> registry, string id, FanOutInput input,
        Func<TaskCompletionSource> done, Action<TaskCompletionSource> reset, int azuritePid)
    {
        int n = input.Items;
        reset(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var startClock = Stopwatch.StartNew();
        var engine1 = new TaskHubEngine(options);
        await engine1.StartWorkerAsync(registry());
        double startMs = startClock.Elapsed.TotalMilliseconds;
        double azurite0 = ProcessCpuMs(azuritePid), worker0 = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        var sw = Stopwatch.StartNew();
        await engine1.Client.ScheduleNewAsync(nameof(BenchFanOut), id, input);
        await done().Task;
        double engineMs = sw.Elapsed.TotalMilliseconds;
        double azuriteCpuMs = ProcessCpuMs(azuritePid) - azurite0, workerCpuMs = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - worker0;
        await engine1.DisposeAsync();

        await using var engine2 = new TaskHubEngine(options);
        await engine2.StartWorkerAsync(registry());
        sw.Restart();
        await engine2.Client.RaiseEventAsync(id, "finish", n);
        var final = await engine2.Client.WaitForCompletionAsync(id);
        double resumeMs = sw.Elapsed.TotalMilliseconds;
        if (final.ReadOutput<int>() != n) throw new InvalidOperationException($"benchmark run {id} returned {final.Output}");
        // activity outcomes in the committed histories (the parent's FanOutDone, and each group's calls when grouped)
        var instances = new List<string> { id };
        if (input.Group > 0 && input.Group < n) instances.AddRange(Enumerable.Range(0, (n + input.Group - 1) / input.Group).Select(g => $"{id}-g{g:D4}"));
        int completions = 0;
        foreach (var instance in instances)
            completions += (await engine2.Client.GetHistoryAsync(instance)).Where(h => h.Type == DurableTask.Core.History.EventType.TaskCompleted).Select(h => h.TaskScheduledId).Distinct().Count();
        return (engineMs, resumeMs, startMs, completions, azuriteCpuMs, workerCpuMs);
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
