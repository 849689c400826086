using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Imaging.Synthetic;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Storage.Datasets;

namespace Pipeline.Bench.Recovery;

/// <summary>
/// Recovery time of a run on the local host with default settings: the demo workload runs in a host child process
/// (this benchmark's own executable, <c>--child-host</c>: the local host's services as <c>pipeline serve --role all</c>
/// registers them, defaults unchanged) over an Azurite with a data folder. At random points (after the run's next
/// completed item, plus 0-2 s) the host is SIGKILLed and restarted at once, or Azurite is stopped for 3-8 s and
/// restarted on the same ports and data folder while the host keeps running, alternately. Measured: for a kill, the
/// time from the restart to the run's next completed item (runs/{id}/items/); for an outage, the time from storage's
/// return to the next completed item. The run must end with runs/{id}/out/ byte-identical to an uninterrupted run of
/// the same request (run first, in another Azurite) and one result per planned item. No peer tool: the target is the
/// issue's (under 30 s for both).
/// <c>dotnet run -c Release --project bench/Pipeline.Bench -- recovery [--faults 3] [--seed N] [--images 12] [--items-per-task 6] [--shard-size 2] [--model DIR]</c>
/// </summary>
public sealed class RecoveryBenchmark : IBenchmark
{
    private const string RunId = "bench-recovery";
    public string Name => "recovery";
    public string Description => "time from a host restart / storage's return to the run's next completed item (defaults), outputs vs an uninterrupted run";

    private sealed record Fault(string Kind, double AtSeconds, int ItemsBefore, double DownSeconds, double RecoverySeconds, int ItemsAfter);

    public async Task<int> RunAsync(string[] args)
    {
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
        if (opts.TryGetValue("child-host", out var childConnection)) return await RunHostAsync(childConnection, opts["cache"]);

        string root = Directory.GetCurrentDirectory();
        string demoModel = Path.Combine(root, "models", "mammo-tiny");
        string model = Path.GetFullPath(opts.GetValueOrDefault("model")
                       ?? (File.Exists(Path.Combine(demoModel, "model.json")) ? demoModel : Path.Combine(root, "training", "test_models", "bench_inpaint")));
        if (!File.Exists(Path.Combine(model, "model.json"))) { Console.Error.WriteLine($"recovery: no model.json in {model} (run from the repository root or pass --model)"); return 2; }
        int faults = int.Parse(opts.GetValueOrDefault("faults", "3"), CultureInfo.InvariantCulture);
        int seed = int.Parse(opts.GetValueOrDefault("seed", Environment.TickCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        int images = int.Parse(opts.GetValueOrDefault("images", "12"), CultureInfo.InvariantCulture);
        int perTask = int.Parse(opts.GetValueOrDefault("items-per-task", "6"), CultureInfo.InvariantCulture);
        int shardSize = int.Parse(opts.GetValueOrDefault("shard-size", "2"), CultureInfo.InvariantCulture);
        var random = new Random(seed);
        Console.WriteLine($"seed {seed} (replay: --seed {seed}); {faults} host kills and {faults} storage outages, alternately");
        string work = Path.Combine(Path.GetTempPath(), $"bench-recovery-{Guid.NewGuid():N}");
        string dataset = Path.Combine(work, "dataset"), cache = Path.Combine(work, "model-cache");
        await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = images, Seed = 2026 }, dataset);
        var request = new AugmentationRequest
        {
            RunId = RunId, Dataset = "mammo", Model = model, Seed = 2026, ShardSize = shardSize,
            Tasks =
            [
                new AugmentationTask { Mode = TaskMode.Insertion, Count = perTask },
                new AugmentationTask { Mode = TaskMode.Replacement, Count = perTask },
                new AugmentationTask { Mode = TaskMode.Reinsertion, Count = perTask },
            ],
        };
        try
        {
            // 1. The uninterrupted run (in-process host, in-memory Azurite).
            SortedDictionary<string, string> expected;
            double referenceSeconds;
            await using (var reference = await AzuriteServer.StartAsync())
            {
                await UploadAsync(reference.ConnectionString, dataset);
                var clock = Stopwatch.StartNew();
                await using (var host = await LocalPipelineHost.StartAsync(reference.ConnectionString, HostSettings(cache)))
                {
                    await host.SubmitAsync(request);
                    var final = await WaitForRunAsync(host.Orchestrations, TimeSpan.FromMinutes(30));
                    if (final.State is not (RunState.Completed or RunState.CompletedWithFailures)) { Console.Error.WriteLine($"recovery: the reference run ended {final.State}: {final.Error}"); return 1; }
                }
                referenceSeconds = clock.Elapsed.TotalSeconds;
                expected = await HashesAsync(reference.ConnectionString, "out/");
                Console.WriteLine($"uninterrupted run: {referenceSeconds:F1} s, {expected.Count} output blobs");
            }

            // 2. The same request with faults: a host child process over an Azurite that keeps its data folder.
            var azurite = await AzuriteServer.StartAsync(new AzuriteOptions { Location = Path.Combine(work, "azurite") });
            var ports = (azurite.BlobPort, azurite.QueuePort, azurite.TablePort);
            string cs = azurite.ConnectionString;
            var rows = new List<Fault>();
            HostProcess? hostProcess = null;
            try
            {
                await UploadAsync(cs, dataset);
                hostProcess = HostProcess.Start(cs, cache);
                await QueueSubmitAsync(cs, request);
                await using var observer = new Pipeline.Host.TaskHub.TaskHubEngine(new Pipeline.Host.TaskHub.TaskHubOptions { ConnectionString = cs });
                var client = observer.Client;
                var clock = Stopwatch.StartNew();
                int planned = -1, recoveredAt = 0;
                for (int f = 0; f < 2 * faults; f++)
                {
                    string kind = f % 2 == 0 ? "host-kill" : "storage-outage";
                    // a random point: once the run has completed one more item since the last recovery, plus 0-2 s
                    int before = await WaitForItemsAsync(cs, recoveredAt + 1, TimeSpan.FromMinutes(10), () => hostProcess.Tail());
                    if (planned < 0) planned = await PlannedItemsAsync(cs);
                    await Task.Delay(random.Next(0, 2000));
                    before = Math.Max(before, await CountItemsAsync(cs));
                    if (before >= planned) { Console.WriteLine($"the run completed every item before fault {f + 1}"); break; }
                    double at = clock.Elapsed.TotalSeconds, down = 0;
                    Stopwatch since;
                    if (kind == "host-kill")
                    {
                        hostProcess.Kill();
                        hostProcess.Dispose();
                        before = await CountItemsAsync(cs); // what the dead host wrote, up to its last request
                        hostProcess = HostProcess.Start(cs, cache);
                        since = Stopwatch.StartNew(); // from the restart (the process start)
                    }
                    else
                    {
                        // graceful: Azurite saves its databases; killed instead, it would lose writes it had acknowledged
                        if (!azurite.Stop(TimeSpan.FromSeconds(60))) Console.WriteLine("warning: Azurite did not stop within 60 s of SIGTERM and was killed");
                        azurite.Dispose();
                        down = random.Next(3000, 8000) / 1000.0;
                        await Task.Delay(TimeSpan.FromSeconds(down));
                        azurite = await AzuriteServer.StartAsync(new AzuriteOptions
                        {
                            Location = Path.Combine(work, "azurite"), BlobPort = ports.BlobPort, QueuePort = ports.QueuePort, TablePort = ports.TablePort,
                        });
                        since = Stopwatch.StartNew(); // from storage's return (Azurite answers again)
                        // what reached storage before it stopped (a result written while Azurite was shutting down counts as before)
                        while ((before = await CountItemsAsync(cs)) < 0) await Task.Delay(50);
                    }
                    if (before >= planned) { Console.WriteLine($"every item had completed when fault {f + 1} landed"); break; }
                    int after = await WaitForItemsAsync(cs, before + 1, TimeSpan.FromMinutes(10), () => hostProcess.Tail());
                    double recovery = since.Elapsed.TotalSeconds;
                    recoveredAt = after;
                    rows.Add(new Fault(kind, Math.Round(at, 1), before, down, Math.Round(recovery, 2), after));
                    Console.WriteLine($"{at,7:F1} s  {kind,-15} at {before,3} items{(down > 0 ? $", down {down:F1} s" : ""),-14}  next item after {recovery,6:F1} s");
                }
                var done = await WaitForRunAsync(client, TimeSpan.FromMinutes(20));
                if (done.State is not (RunState.Completed or RunState.CompletedWithFailures)) { Console.Error.WriteLine($"recovery: the faulted run ended {done.State}: {done.Error}"); return 1; }
                var actual = await HashesAsync(cs, "out/");
                int results = await CountItemsAsync(cs);
                bool identical = expected.Count > 0 && expected.SequenceEqual(actual);
                Console.WriteLine($"faulted run: {clock.Elapsed.TotalSeconds:F1} s; out/ identical to the uninterrupted run: {identical} ({actual.Count} blobs); {results} item results for {planned} planned items");

                var kills = rows.Where(r => r.Kind == "host-kill").Select(r => r.RecoverySeconds).ToList();
                var outages = rows.Where(r => r.Kind == "storage-outage").Select(r => r.RecoverySeconds).ToList();
                static JsonObject Summary(List<double> xs) => xs.Count == 0 ? new JsonObject() : new JsonObject
                {
                    ["count"] = xs.Count, ["medianSeconds"] = Math.Round(Median(xs), 2), ["maxSeconds"] = Math.Round(xs.Max(), 2),
                };
                var json = new JsonObject
                {
                    ["benchmark"] = Name,
                    ["description"] = "The demo workload on the local host (default settings) in a child process over Azurite with a data folder. host-kill: SIGKILL of the host, " +
                                      "restarted at once; recoverySeconds = from the restart (process start) to the run's next completed item (a new runs/{id}/items/ blob). " +
                                      "storage-outage: Azurite stopped gracefully for downSeconds and restarted on the same ports and data folder while the host keeps running; " +
                                      "recoverySeconds = from storage's return to the next completed item. Faults alternate, each at a random point after the run completed " +
                                      "one more item since the last recovery (+0-2 s). outputsIdentical: runs/{id}/out/ byte-identical to an uninterrupted run of the same request. " +
                                      "No peer tool; target from the issue.",
                    ["command"] = ("dotnet run -c Release --project bench/Pipeline.Bench -- recovery " + string.Join(" ", args)).TrimEnd(),
                    ["date"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
                    ["machine"] = new JsonObject
                    {
                        ["cores"] = Environment.ProcessorCount, ["loadAverage1m"] = LoadAverage(),
                        ["note"] = "shared 2-core machine with other builds and tests running; times are upper bounds",
                    },
                    ["seed"] = seed,
                    ["model"] = Path.GetRelativePath(root, model).Replace('\\', '/'),
                    ["itemsPlanned"] = planned, ["itemResults"] = results, ["shardSize"] = shardSize,
                    ["uninterruptedRunSeconds"] = Math.Round(referenceSeconds, 1),
                    ["faultedRunSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                    ["outputBlobs"] = actual.Count,
                    ["outputsIdentical"] = identical,
                    ["targetSeconds"] = 30,
                    ["hostKill"] = Summary(kills),
                    ["storageOutage"] = Summary(outages),
                    ["faults"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
                    {
                        ["kind"] = r.Kind, ["atSeconds"] = r.AtSeconds, ["itemsBefore"] = r.ItemsBefore, ["downSeconds"] = r.DownSeconds,
                        ["recoverySeconds"] = r.RecoverySeconds, ["itemsAfter"] = r.ItemsAfter,
                    }).ToArray()),
                };
                string outDir = Path.Combine(root, "bench", "results");
                Directory.CreateDirectory(outDir);
                await File.WriteAllTextAsync(Path.Combine(outDir, "recovery.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
                Console.WriteLine($"host kill: next item after {Describe(kills)}; storage outage: next item after {Describe(outages)} (target < 30 s); wrote bench/results/recovery.json");
                return identical && results == planned ? 0 : 1;
            }
            finally
            {
                hostProcess?.Dispose();
                azurite.Dispose();
            }
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static string Describe(List<double> xs) => xs.Count == 0 ? "n/a" : $"median {Median(xs):F1} s, max {xs.Max():F1} s";

    private static double Median(List<double> xs)
    {
        var o = xs.Order().ToList();
        return o.Count % 2 == 1 ? o[o.Count / 2] : (o[o.Count / 2 - 1] + o[o.Count / 2]) / 2;
    }

    /// <summary>Default settings; only the storage account and the model cache are given.</summary>
    private static Dictionary<string, string?> HostSettings(string cache) => new() { ["Pipeline:Models:CacheDirectory"] = cache };

    /// <summary>The child: the local host (engine worker, triggers, GPU worker) until it is killed.</summary>
    private static async Task<int> RunHostAsync(string connectionString, string cache)
    {
        await using var host = await LocalPipelineHost.StartAsync(connectionString, HostSettings(cache));
        Console.WriteLine("host running");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    private static async Task UploadAsync(string connectionString, string folder)
    {
        var storage = new PipelineStorage(connectionString);
        await storage.EnsureCreatedAsync();
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            await using var f = File.OpenRead(file);
            await storage.Dataset("mammo").UploadAsync(Path.GetRelativePath(folder, file).Replace('\\', '/'), f);
        }
        await new DatasetIndexIngestor(storage).IngestAsync("mammo", CancellationToken.None);
    }

    private static Task QueueSubmitAsync(string connectionString, AugmentationRequest request) =>
        Pipeline.Storage.Queues.QueueMessages.SendAsync(new PipelineStorage(connectionString).Queue(StorageLayout.AugmentRequestsQueue), PipelineJson.SerializeToUtf8Bytes(request));

    private static async Task<OrchestrationInstance> WaitForRunAsync(IOrchestrationClient client, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            try
            {
                if (await client.GetInstanceAsync(RunId, cts.Token) is not null) return await client.WaitForCompletionAsync(RunId, cts.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException) { } // storage restarting
            await Task.Delay(200, cts.Token);
        }
    }

    /// <summary>Completed items (item result blobs), or -1 while storage does not answer.</summary>
    private static async Task<int> CountItemsAsync(string connectionString)
    {
        try
        {
            int n = 0;
            await foreach (var _ in new PipelineStorage(connectionString).Run(RunId).ListAsync("items/")) n++;
            return n;
        }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or IOException or AggregateException) { return -1; }
    }

    private static async Task<int> WaitForItemsAsync(string connectionString, int atLeast, TimeSpan timeout, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow + timeout;
        int n;
        while ((n = await CountItemsAsync(connectionString)) < atLeast)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no item result #{atLeast} within {timeout}; host output:\n{diagnostics()}");
            await Task.Delay(100);
        }
        return n;
    }

    private static async Task<int> PlannedItemsAsync(string connectionString)
    {
        var run = new PipelineStorage(connectionString).Run(RunId);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
        return plan.ItemCount;
    }

    private static async Task<SortedDictionary<string, string>> HashesAsync(string connectionString, string prefix)
    {
        var storage = new PipelineStorage(connectionString);
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (var e in storage.Run(RunId).ListAsync(prefix))
            hashes[e.Path.Name] = Convert.ToHexStringLower(SHA256.HashData((await storage.ReadAsync(e.Path))!.ToArray()));
        return hashes;
    }

    private static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return -1; }
    }

    /// <summary>This executable as the host child process (SIGKILLed by <see cref="Kill"/>).</summary>
    private sealed class HostProcess : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private HostProcess(Process process) { _process = process; }

        public static HostProcess Start(string connectionString, string cache)
        {
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { typeof(RecoveryBenchmark).Assembly.Location, "recovery", "--child-host", connectionString, "--cache", cache })
                psi.ArgumentList.Add(a);
            var h = new HostProcess(Process.Start(psi)!);
            h._process.OutputDataReceived += (_, e) => { if (e.Data is not null) h.Keep(e.Data); };
            h._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) h.Keep(e.Data); };
            h._process.BeginOutputReadLine();
            h._process.BeginErrorReadLine();
            return h;
        }

        private void Keep(string line)
        {
            _lines.Enqueue(line);
            while (_lines.Count > 200) _lines.TryDequeue(out _);
        }

        public string Tail() => string.Join('\n', _lines.TakeLast(40));

        public void Kill()
        {
            if (_process.HasExited) return;
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public void Dispose()
        {
            Kill();
            _process.Dispose();
        }
    }
}
