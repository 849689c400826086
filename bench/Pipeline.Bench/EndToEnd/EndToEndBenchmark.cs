using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host;
using Pipeline.Host.Runs;
using Pipeline.Driving.Synthetic;
using Pipeline.Host.Ingestion;
using Pipeline.Imaging.Synthetic;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Storage.Datasets;
using Pipeline.Storage.Queues;

namespace Pipeline.Bench.EndToEnd;

/// <summary>
/// End-to-end throughput of the demo workload (synthetic mammograms, or with <c>--domain driving</c> synthetic camera +
/// lidar scenes and driving-tiny; insertion + replacement + reinsertion) through the local host on Azurite: items per minute, and where the time goes. Every activity is wrapped in a timer (the wrapper
/// only records start and end; inputs and outputs pass through untouched), and the GPU role is this benchmark's own
/// consumer of inference-requests that times <see cref="ShardSampler.SampleShardAsync"/> (the worker's own code)
/// per shard. Orchestration overhead is the part of the run's wall time in which no activity and no inference ran
/// (scheduling, checkpointing, queue and event latency). There is no peer tool for a whole pipeline run.
/// <c>dotnet run -c Release --project bench/Pipeline.Bench -- e2e [--domain mammography|driving] [--model DIR] [--images 16]
/// [--scenes 3] [--items-per-task 8] [--steps N] [--shard-size 4]</c>; results in bench/results/e2e.json (driving:
/// e2e-driving.json).
/// </summary>
public sealed class EndToEndBenchmark : IBenchmark
{
    public string Name => "e2e";
    public string Description => "end to end: items per minute and share of time per stage (preprocess, infer, compose, measure, overhead)";

    /// <summary>One timed call; <paramref name="Shard"/> for per-shard calls.</summary>
    private sealed record Span(string Stage, string Name, int? Shard, double Start, double End);

    public async Task<int> RunAsync(string[] args)
    {
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
        string root = Directory.GetCurrentDirectory();
        string domain = opts.GetValueOrDefault("domain", "mammography");
        if (domain is not ("mammography" or "driving")) { Console.Error.WriteLine($"e2e: unknown --domain '{domain}' (mammography or driving)"); return 2; }
        bool driving = domain == "driving";
        string demoModel = Path.Combine(root, "models", driving ? "driving-tiny" : "mammo-tiny");
        string model = opts.GetValueOrDefault("model")
                       ?? (File.Exists(Path.Combine(demoModel, "model.json")) ? demoModel : Path.Combine(root, "training", "test_models", "bench_inpaint"));
        if (!File.Exists(Path.Combine(model, "model.json"))) { Console.Error.WriteLine($"e2e: no model.json in {model} (run from the repository root or pass --model)"); return 2; }
        model = Path.GetFullPath(model);
        int images = int.Parse(opts.GetValueOrDefault("images", "16"), CultureInfo.InvariantCulture);
        int scenes = int.Parse(opts.GetValueOrDefault("scenes", "3"), CultureInfo.InvariantCulture);
        int perTask = int.Parse(opts.GetValueOrDefault("items-per-task", "8"), CultureInfo.InvariantCulture);
        int shardSize = int.Parse(opts.GetValueOrDefault("shard-size", "4"), CultureInfo.InvariantCulture);
        int? steps = opts.TryGetValue("steps", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : null;
        string work = Path.Combine(Path.GetTempPath(), $"bench-e2e-{Guid.NewGuid():N}");

        using var azurite = await AzuriteServer.StartAsync();
        try
        {
            // the demo's dataset: synthetic mammograms (driving: the demo's synthetic scenes, 4 key frames each) uploaded
            // under datasets/ and indexed (as the drop trigger does)
            string dataset = Path.Combine(work, "dataset");
            string datasetName = driving ? "drive" : "mammo";
            if (driving) await SyntheticDrivingDataset.WriteToFolderAsync(new SyntheticDrivingOptions { Scenes = scenes, SamplesPerScene = 4, Seed = 42 }, dataset);
            else await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = images, Seed = 2026 }, dataset);
            var storage = new PipelineStorage(azurite.ConnectionString);
            await storage.EnsureCreatedAsync();
            foreach (var file in Directory.EnumerateFiles(dataset, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                await using var f = File.OpenRead(file);
                await storage.Dataset(datasetName).UploadAsync(Path.GetRelativePath(dataset, file).Replace('\\', '/'), f);
            }
            if (driving) await new ValidatingDatasetIngestor(storage).IngestAsync(datasetName, CancellationToken.None);
            else await new DatasetIndexIngestor(storage).IngestAsync(datasetName, CancellationToken.None);

            var spans = new ConcurrentBag<Span>();
            var clock = Stopwatch.StartNew();
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Configuration = new ConfigurationManager() });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [PipelineStorageOptions.ConnectionStringKey] = azurite.ConnectionString,
                ["Pipeline:Triggers:DatasetDrop:Enabled"] = "false",
                ["Pipeline:InferenceWorker:Enabled"] = "false", // the benchmark's timed consumer below is the GPU role
                ["Pipeline:Run:ShardsPerGroup"] = "1", // as the demo
                ["Pipeline:Models:CacheDirectory"] = Path.Combine(work, "model-cache"),
            });
            builder.Logging.ClearProviders();
            builder.Services.AddPipeline(builder.Configuration);
            WrapActivities(builder.Services, spans, clock);
            using var host = builder.Build();
            await host.StartAsync();

            var request = new AugmentationRequest
            {
                RunId = "bench-e2e", Dataset = datasetName, Model = model, Seed = 2026, ShardSize = shardSize,
                Tasks =
                [
                    new AugmentationTask { Mode = TaskMode.Insertion, Count = perTask },
                    new AugmentationTask { Mode = TaskMode.Replacement, Count = perTask },
                    new AugmentationTask { Mode = TaskMode.Reinsertion, Count = perTask },
                ],
                Sampler = steps is null ? null : new SamplerSettings { Steps = steps },
            };
            var client = host.Services.GetRequiredService<IOrchestrationClient>();
            var worker = host.Services.GetRequiredService<ShardSampler>();
            using var stop = new CancellationTokenSource();
            var gpu = Task.Run(() => GpuRoleAsync(storage, worker, client, spans, clock, stop.Token));

            double submitted = clock.Elapsed.TotalSeconds;
            await QueueMessages.SendAsync(storage.Queue(StorageLayout.AugmentRequestsQueue), PipelineJson.SerializeToUtf8Bytes(request));
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30));
            while (await client.GetInstanceAsync(request.RunId, timeout.Token) is null) await Task.Delay(50, timeout.Token);
            var final = await client.WaitForCompletionAsync(request.RunId, timeout.Token);
            double finished = clock.Elapsed.TotalSeconds;
            await stop.CancelAsync();
            try { await gpu; } catch (OperationCanceledException) { }
            await host.StopAsync();
            if (final.State is not (RunState.Completed or RunState.CompletedWithFailures))
            {
                Console.Error.WriteLine($"e2e: the run ended {final.State}: {final.Error}");
                return 1;
            }

            var run = storage.Run(request.RunId);
            var results = await RunResults.ReadItemsAsync(run, CancellationToken.None);
            var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
            var package = await Pipeline.Inference.Packages.ModelPackage.LoadAsync(model);
            int effectiveSteps = steps ?? package.Sampler.Steps;
            double wall = finished - submitted;
            int made = results.Count(r => r.Outcome is ItemOutcome.Succeeded or ItemOutcome.Flagged);

            // Busy time per stage (summed over concurrent calls) and the idle part of the wall time (no stage running).
            var all = spans.ToList();
            string[] order = ["preprocess", "infer", "compose", "measure", "plan+report"];
            double idle = wall - Union(all.Select(x => (Math.Max(x.Start, submitted), Math.Min(x.End, finished))));
            double busyTotal = all.Sum(x => x.End - x.Start);
            double denominator = busyTotal + idle;
            var stages = new JsonArray();
            Console.WriteLine($"{"stage",-12} {"calls",6} {"busy s",9} {"mean ms",9} {"share",7}");
            foreach (string stage in order)
            {
                var mine = all.Where(x => x.Stage == stage).ToList();
                double busy = mine.Sum(x => x.End - x.Start);
                stages.Add(new JsonObject
                {
                    ["stage"] = stage, ["calls"] = mine.Count, ["busySeconds"] = Math.Round(busy, 3),
                    ["meanMs"] = mine.Count == 0 ? 0 : Math.Round(1000 * busy / mine.Count, 1),
                    ["share"] = Math.Round(busy / denominator, 4),
                });
                Console.WriteLine($"{stage,-12} {mine.Count,6} {busy,9:F2} {(mine.Count == 0 ? 0 : 1000 * busy / mine.Count),9:F1} {busy / denominator,7:P1}");
            }
            stages.Add(new JsonObject { ["stage"] = "overhead", ["busySeconds"] = Math.Round(idle, 3), ["share"] = Math.Round(idle / denominator, 4) });
            Console.WriteLine($"{"overhead",-12} {"",6} {idle,9:F2} {"",9} {idle / denominator,7:P1}");
            // outside the model: everything but the sampling calls (the wall-time view: the run's wall time in which no
            // sampling call ran, over the wall time)
            double inferBusy = all.Where(x => x.Stage == "infer").Sum(x => x.End - x.Start);
            double inferWall = Union(all.Where(x => x.Stage == "infer").Select(x => (Math.Max(x.Start, submitted), Math.Min(x.End, finished))));
            double outsideShare = 1 - inferBusy / denominator, outsideWallShare = 1 - inferWall / wall;
            Console.WriteLine($"outside the model: {outsideShare:P1} of busy + overhead time, {outsideWallShare:P1} of the wall time");
            // Hand-offs along each shard's chain (Preprocess -> RequestInference -> infer -> Compose -> Measure): the time
            // between one call's end and the next one's start is the engine's and the queues' latency on that shard.
            // RequestInference -> infer also holds the wait for the one GPU consumer behind other shards; the other
            // hand-offs are engine latency only (CPU lanes run 16 calls at once).
            var gaps = new List<double>();
            var byTransition = new SortedDictionary<string, List<double>>(StringComparer.Ordinal);
            double chainTotal = 0;
            foreach (var shard in all.Where(x => x.Shard is not null).GroupBy(x => x.Shard))
            {
                var chain = shard.OrderBy(x => x.Start).ToList();
                chainTotal += chain[^1].End - chain[0].Start;
                for (int i = 1; i < chain.Count; i++)
                {
                    double gap = Math.Max(0, chain[i].Start - chain[i - 1].End);
                    gaps.Add(gap);
                    string key = $"{chain[i - 1].Name} -> {chain[i].Name}";
                    if (!byTransition.TryGetValue(key, out var list)) byTransition[key] = list = [];
                    list.Add(gap);
                }
            }
            var transitions = new JsonObject();
            foreach (var (key, list) in byTransition)
            {
                transitions[key] = new JsonObject { ["count"] = list.Count, ["meanMs"] = Math.Round(1000 * list.Average(), 1), ["maxMs"] = Math.Round(1000 * list.Max(), 1) };
                Console.WriteLine($"  {key,-36} n={list.Count,3} mean {1000 * list.Average(),7:F0} ms  max {1000 * list.Max(),7:F0} ms");
            }
            double handoffMean = gaps.Count == 0 ? 0 : 1000 * gaps.Average();
            double handoffShare = chainTotal == 0 ? 0 : gaps.Sum() / chainTotal;
            Console.WriteLine($"per-shard hand-offs: {gaps.Count}, mean {handoffMean:F0} ms, {handoffShare:P1} of the shards' chains");
            double perMinute = made / (wall / 60);
            Console.WriteLine($"{plan.ItemCount} items planned, {made} made in {wall:F1} s: {perMinute:F1} items/min ({final.State})");

            string repoModel = Path.GetRelativePath(root, model);
            var json = new JsonObject
            {
                ["benchmark"] = "e2e",
                ["domain"] = domain,
                ["description"] = "One augmentation run of the demo workload through the local host (triggers, durable engine, activities) on Azurite (in-memory), " +
                                  "with this process's timed consumer of inference-requests as the GPU role (CPU ONNX inference here). " +
                                  "busySeconds: summed wall time of the stage's calls (activities wrapped in a timer; infer = ShardSampler.SampleShardAsync per shard), " +
                                  "concurrent calls add up. overhead: the part of the run's wall time in which no call of any stage ran (engine scheduling, checkpoints, queue and event latency). " +
                                  "share = busySeconds / (sum of busySeconds + overhead). plan+report = Plan, Estimate, RequestInference, Aggregate, Report. No peer tool: nothing else runs this pipeline.",
                ["command"] = ("dotnet run -c Release --project bench/Pipeline.Bench -- e2e " + string.Join(" ", args)).TrimEnd(),
                ["date"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
                ["machine"] = new JsonObject
                {
                    ["cores"] = Environment.ProcessorCount,
                    ["loadAverage1m"] = LoadAverage(),
                    ["note"] = "shared 2-core machine with other builds and tests running; times are upper bounds",
                },
                ["model"] = repoModel.StartsWith("..", StringComparison.Ordinal) ? model : repoModel.Replace('\\', '/'),
                ["modelIsDemoModel"] = Path.GetFullPath(model) == Path.GetFullPath(demoModel),
                ["modelResolution"] = package.Resolution,
                ["images"] = driving ? null : images, ["scenes"] = driving ? scenes : null, ["itemsPerTask"] = perTask, ["shardSize"] = shardSize, ["shards"] = plan.Shards.Count, ["steps"] = effectiveSteps,
                ["itemsPlanned"] = plan.ItemCount, ["itemsMade"] = made, ["state"] = final.State.ToString(),
                ["wallSeconds"] = Math.Round(wall, 2),
                ["itemsPerMinute"] = Math.Round(perMinute, 2),
                ["stages"] = stages,
                ["shareOutsideModel"] = Math.Round(outsideShare, 4),
                ["shareOfWallOutsideModel"] = Math.Round(outsideWallShare, 4),
                ["shardHandoffs"] = new JsonObject
                {
                    ["description"] = "per shard, the gaps between consecutive calls of its chain (Preprocess, RequestInference, ProcessShard = infer, Compose, Measure): engine dispatch, checkpoint and event latency on the shard's critical path; RequestInference -> ProcessShard also holds the queue poll and the wait for the single GPU consumer behind other shards",
                    ["count"] = gaps.Count,
                    ["meanMs"] = Math.Round(handoffMean, 1),
                    ["maxMs"] = gaps.Count == 0 ? 0 : Math.Round(1000 * gaps.Max(), 1),
                    ["shareOfShardChains"] = Math.Round(handoffShare, 4),
                    ["byTransition"] = transitions,
                },
            };
            string outDir = Path.Combine(root, "bench", "results");
            Directory.CreateDirectory(outDir);
            string resultFile = Path.Combine(outDir, driving ? "e2e-driving.json" : "e2e.json");
            await File.WriteAllTextAsync(resultFile, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {resultFile}");
            return 0;
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Replaces each registered activity with a timing wrapper around the same instance.</summary>
    private static void WrapActivities(IServiceCollection services, ConcurrentBag<Span> spans, Stopwatch clock)
    {
        for (int i = 0; i < services.Count; i++)
        {
            var d = services[i];
            if (d.ServiceType != typeof(IActivity) || d.ImplementationType is null) continue;
            var type = d.ImplementationType;
            services[i] = ServiceDescriptor.Singleton<IActivity>(sp => new TimedActivity((IActivity)ActivatorUtilities.CreateInstance(sp, type), spans, clock));
        }
    }

    private sealed class TimedActivity(IActivity inner, ConcurrentBag<Span> spans, Stopwatch clock) : IActivity
    {
        public string Name => inner.Name;

        public async Task<object?> RunAsync(JsonElement input, CancellationToken cancellationToken)
        {
            double start = clock.Elapsed.TotalSeconds;
            try { return await inner.RunAsync(input, cancellationToken).ConfigureAwait(false); }
            finally { spans.Add(new Span(StageOf(inner.Name), inner.Name, ShardOf(input), start, clock.Elapsed.TotalSeconds)); }
        }
    }

    /// <summary>The shard index of a per-shard activity's input ({"shard":{"index":n}}), else null.</summary>
    private static int? ShardOf(JsonElement input) =>
        input.ValueKind == JsonValueKind.Object && input.TryGetProperty("shard", out var shard) && shard.ValueKind == JsonValueKind.Object
        && shard.TryGetProperty("index", out var index) && index.TryGetInt32(out int i) ? i : null;

    private static string StageOf(string activity) => activity switch
    {
        RunActivityNames.Preprocess => "preprocess",
        RunActivityNames.Compose => "compose",
        RunActivityNames.Measure => "measure",
        _ => "plan+report",
    };

    /// <summary>The GPU role as <see cref="InferenceWorker"/> runs it (receive, sample the shard, raise its done event,
    /// delete), timing the sampling.</summary>
    private static async Task GpuRoleAsync(PipelineStorage storage, ShardSampler worker, IOrchestrationClient client,
        ConcurrentBag<Span> spans, Stopwatch clock, CancellationToken stop)
    {
        var queue = storage.Queue(StorageLayout.InferenceRequestsQueue);
        while (!stop.IsCancellationRequested)
        {
            var received = await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(10), stop);
            if (received.Value.Length == 0) { await Task.Delay(TimeSpan.FromMilliseconds(500), stop); continue; } // the worker's default poll
            foreach (var message in received.Value)
            {
                var request = PipelineJson.Deserialize<InferenceRequestMessage>(QueueMessages.Decode(message), "inference request");
                double start = clock.Elapsed.TotalSeconds;
                var done = await worker.SampleShardAsync(request, stop);
                spans.Add(new Span("infer", "ProcessShard", request.ShardIndex, start, clock.Elapsed.TotalSeconds));
                await client.RaiseEventAsync(request.InstanceId, RunActivityNames.InferenceDoneEvent(request.ShardIndex), done, stop);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stop);
            }
        }
    }

    /// <summary>Total length of the union of intervals.</summary>
    private static double Union(IEnumerable<(double Start, double End)> intervals)
    {
        double total = 0, curStart = double.NaN, curEnd = double.NaN;
        foreach (var (a, b) in intervals.Where(x => x.End > x.Start).OrderBy(x => x.Start))
        {
            if (double.IsNaN(curStart) || a > curEnd) { if (!double.IsNaN(curStart)) total += curEnd - curStart; curStart = a; curEnd = b; }
            else curEnd = Math.Max(curEnd, b);
        }
        if (!double.IsNaN(curStart)) total += curEnd - curStart;
        return total;
    }

    private static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return -1; }
    }
}
