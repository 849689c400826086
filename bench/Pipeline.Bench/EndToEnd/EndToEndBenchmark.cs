using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host;
using Pipeline.Host.Runs;
using Pipeline.Driving.Synthetic;
using Pipeline.Host.Ingestion;
using Pipeline.Imaging.Synthetic;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Storage.Datasets;
using Pipeline.Storage.Queues;

namespace Pipeline.Bench.EndToEnd;

/// <summary>
/// End-to-end throughput of the demo workload (synthetic mammograms, or with <c>--domain driving</c> synthetic camera +
/// lidar scenes and driving-tiny; insertion + replacement + reinsertion) through the local host on Azurite: items per
/// minute, and where the time goes. Every activity is wrapped in a timer (the wrapper
/// only records start and end; inputs and outputs pass through untouched), and the GPU role is this benchmark's own
/// consumer of inference-requests that runs the worker's passes (<see cref="ShardSampler.SampleShardsAsync"/>: up to
/// MaxShardsPerPass shards, items batched across them). Orchestration overhead is the part of the run's wall time in
/// which no activity and no inference ran (scheduling, checkpointing, queue and event latency).
/// <para>The peer is the bare sampler: <see cref="InpaintingSampler.Sample"/> on the same prepared items, model,
/// steps and batch size, in this process after the run (outputs compared with the run's, byte for byte); the
/// pipeline's items/min over the bare sampler's is the cost of everything around the model. A second run of the same
/// request, with every call (activities and sampling passes) serialised, gives each stage's CPU milliseconds per
/// item (process CPU over each call; what runs outside any call is the engine's and the storage clients').</para>
/// <c>dotnet run -c Release --project bench/Pipeline.Bench -- e2e [--domain mammography|driving] [--model DIR] [--images 16]
/// [--scenes 3] [--items-per-task 8] [--steps N] [--shard-size 4] [--gpu-speedup 10] [--warm-up-runs 2]</c>; results in bench/results/e2e.json (driving:
/// e2e-driving.json).
/// </summary>
public sealed class EndToEndBenchmark : IBenchmark
{
    public string Name => "e2e";
    public string Description => "end to end: items/min vs the bare sampler, share of time and CPU ms per item of each stage";

    /// <summary>One timed call; <paramref name="Shard"/> for per-shard calls.</summary>
    private sealed record Span(string Stage, string Name, int? Shard, double Start, double End, double CpuSeconds = 0, string RunId = "", long AllocatedBytes = 0);

    /// <summary>Serialises every timed call when <see cref="Serial"/> is set (the stage-cost run).</summary>
    private sealed class CallGate
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);
        public volatile bool Serial;
    }

    private static double ProcessCpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>Time the JIT has spent compiling, all threads (tiered compilation's background re-compilations included).</summary>
    private static double JitSeconds() => System.Runtime.JitInfo.GetCompilationTime(currentThread: false).TotalSeconds;

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
        double loadAtStart = LoadAverage();
        int images = int.Parse(opts.GetValueOrDefault("images", "16"), CultureInfo.InvariantCulture);
        int scenes = int.Parse(opts.GetValueOrDefault("scenes", "3"), CultureInfo.InvariantCulture);
        int perTask = int.Parse(opts.GetValueOrDefault("items-per-task", "8"), CultureInfo.InvariantCulture);
        int shardSize = int.Parse(opts.GetValueOrDefault("shard-size", "4"), CultureInfo.InvariantCulture);
        int? steps = opts.TryGetValue("steps", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : null;
        int warmUpRuns = int.Parse(opts.GetValueOrDefault("warm-up-runs", "2"), CultureInfo.InvariantCulture);
        double gpuSpeedup = double.Parse(opts.GetValueOrDefault("gpu-speedup", "10"), CultureInfo.InvariantCulture);
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
            var gate = new CallGate();
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
            WrapActivities(builder.Services, spans, clock, gate);
            using var host = builder.Build();
            await host.StartAsync();

            AugmentationRequest Request(string runId) => new()
            {
                RunId = runId, Dataset = datasetName, Model = model, Seed = 2026, ShardSize = shardSize,
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
            var workerOptions = host.Services.GetRequiredService<IOptions<InferenceWorkerOptions>>().Value;
            var models = host.Services.GetRequiredService<ModelProvider>();
            var package = await ModelPackage.LoadAsync(model);
            var sampling = RunSamplingOptions.For(Request("warm-up"), package) with { MaxBatchSize = workerOptions.MaxBatchSize };
            // the model opened and run once before anything is timed, so neither side pays for loading it
            worker.SecondsPerItemStep(package, sampling, CancellationToken.None);
            using var stop = new CancellationTokenSource();
            var gpu = Task.Run(() => GpuRoleAsync(storage, worker, client, workerOptions.MaxShardsPerPass, spans, clock, gate, stop.Token));

            // 0. untimed runs of the same request first: a host that runs for hours has compiled its code long before. The
            // benchmarks run without tiered compilation (Pipeline.Bench.csproj), so a run compiles every method it calls,
            // optimised; with tiering the JIT would still be recompiling during the measured runs (a method is recompiled
            // after 30 calls, then again after an instrumented tier). The warm-up runs alternate between concurrent and
            // serialised calls: a serialised run's calls wait longer, which takes engine paths (lease renewals, longer
            // polls) a concurrent run does not, and whose first compilation would otherwise be charged to the stage costs
            // (13.9 ms of JIT per item in the serialised run after one concurrent warm-up). The JIT time left in the
            // measured runs is reported (jitMsPerItem).
            var warmUpJit = new JsonArray();
            for (int w = 0; w < warmUpRuns; w++)
            {
                double jit0 = JitSeconds();
                gate.Serial = w % 2 == 1;
                var warm = await RunAsync(storage, client, Request($"bench-e2e-warm-up-{w}"), clock);
                gate.Serial = false;
                if (warm.Error is not null) { Console.Error.WriteLine(warm.Error); return 1; }
                warmUpJit.Add(Math.Round(1000 * (JitSeconds() - jit0) / Math.Max(1, warm.Made), 1));
                Console.WriteLine($"warm-up run {w + 1}/{warmUpRuns}: JIT {warmUpJit[^1]} ms per item");
            }
            // The machine is shared and its load drifts, so the sides alternate: pipeline, bare sampler, the serial
            // stage-cost run, bare sampler, pipeline again; each side's figure is the mean of its two measurements.
            // 1. the pipeline as it runs
            double cpuRun = ProcessCpu(), jitRun = JitSeconds();
            var timed = await RunAsync(storage, client, Request("bench-e2e"), clock);
            cpuRun = ProcessCpu() - cpuRun;
            jitRun = JitSeconds() - jitRun;
            if (timed.Error is not null) { Console.Error.WriteLine(timed.Error); return 1; }
            // 2. the bare sampler on the run's prepared items, same model, steps and batch size
            var (items, produced) = await PreparedItemsAsync(storage, "bench-e2e");
            var sampler = new InpaintingSampler(models.GetModel(package), SchedulerFactory.Create);
            var bare = BareSampler(sampler, items, produced, sampling);
            // 3. the stage-cost run: the same request again, every call alone
            gate.Serial = true;
            double cpu0 = ProcessCpu(), jitSerial = JitSeconds();
            var serial = await RunAsync(storage, client, Request("bench-e2e-serial"), clock);
            double serialCpu = ProcessCpu() - cpu0;
            jitSerial = JitSeconds() - jitSerial;
            gate.Serial = false;
            if (serial.Error is not null) { Console.Error.WriteLine(serial.Error); return 1; }
            // 4. the bare sampler once more, 5. the pipeline once more
            var bare2 = BareSampler(sampler, items, produced, sampling);
            double cpuRun2 = ProcessCpu(), jitRun2 = JitSeconds();
            var timed2 = await RunAsync(storage, client, Request("bench-e2e-again"), clock);
            cpuRun2 = ProcessCpu() - cpuRun2;
            jitRun2 = JitSeconds() - jitRun2;
            if (timed2.Error is not null) { Console.Error.WriteLine(timed2.Error); return 1; }
            await stop.CancelAsync();
            try { await gpu; } catch (OperationCanceledException) { }
            await host.StopAsync();

            var run = storage.Run(timed.RunId);
            var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
            int effectiveSteps = steps ?? package.Sampler.Steps;
            double wall = timed.Finished - timed.Submitted, submitted = timed.Submitted, finished = timed.Finished;
            int made = timed.Made;

            // Busy time per stage (summed over concurrent calls) and the idle part of the wall time (no stage running).
            var all = spans.Where(x => x.RunId == timed.RunId).ToList();
            string[] order = ["preprocess", "infer", "compose", "measure", "plan+report"];
            double idle = wall - Union(all.Select(x => (Math.Max(x.Start, submitted), Math.Min(x.End, finished))));
            double busyTotal = all.Where(x => order.Contains(x.Stage)).Sum(x => x.End - x.Start);
            double denominator = busyTotal + idle;
            var serialSpans = spans.Where(x => x.RunId == serial.RunId && order.Contains(x.Stage)).ToList();
            int serialMade = serial.Made;
            var stages = new JsonArray();
            Console.WriteLine($"{"stage",-12} {"calls",6} {"busy s",9} {"mean ms",9} {"share",7} {"CPU ms/item",12} {"alloc/item",11}");
            double nonModelCpuMs = 0;
            foreach (string stage in order)
            {
                var mine = all.Where(x => x.Stage == stage).ToList();
                double busy = mine.Sum(x => x.End - x.Start);
                double cpuMsPerItem = 1000 * serialSpans.Where(x => x.Stage == stage).Sum(x => x.CpuSeconds) / serialMade;
                double allocatedMbPerItem = serialSpans.Where(x => x.Stage == stage).Sum(x => x.AllocatedBytes) / 1e6 / serialMade;
                if (stage != "infer") nonModelCpuMs += cpuMsPerItem;
                stages.Add(new JsonObject
                {
                    ["stage"] = stage, ["calls"] = mine.Count, ["busySeconds"] = Math.Round(busy, 3),
                    ["meanMs"] = mine.Count == 0 ? 0 : Math.Round(1000 * busy / mine.Count, 1),
                    ["share"] = Math.Round(busy / denominator, 4),
                    ["cpuMsPerItem"] = Math.Round(cpuMsPerItem, 2),
                    ["allocatedMBPerItem"] = Math.Round(allocatedMbPerItem, 2),
                });
                Console.WriteLine($"{stage,-12} {mine.Count,6} {busy,9:F2} {(mine.Count == 0 ? 0 : 1000 * busy / mine.Count),9:F1} {busy / denominator,7:P1} {cpuMsPerItem,12:F1} {allocatedMbPerItem,8:F1} MB");
            }
            var byActivity = new JsonObject();
            var allocatedByActivity = new JsonObject();
            foreach (var g in serialSpans.GroupBy(x => x.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                byActivity[g.Key] = Math.Round(1000 * g.Sum(x => x.CpuSeconds) / serialMade, 2);
                allocatedByActivity[g.Key] = Math.Round(g.Sum(x => x.AllocatedBytes) / 1e6 / serialMade, 2);
            }
            Console.WriteLine("CPU ms/item by call: " + string.Join(", ", byActivity.Select(kv => $"{kv.Key} {kv.Value}")));
            Console.WriteLine("allocated MB/item by call: " + string.Join(", ", allocatedByActivity.Select(kv => $"{kv.Key} {kv.Value}")));
            int unattributed = spans.Count(x => x.RunId == "");
            if (unattributed > 0) Console.WriteLine($"warning: {unattributed} calls could not be attributed to a run");
            // what the serial run's process spent outside every call: engine dispatch and checkpoints, storage clients, polling
            double outsideMs = 1000 * (serialCpu - serialSpans.Sum(x => x.CpuSeconds)) / serialMade;
            nonModelCpuMs += outsideMs;
            stages.Add(new JsonObject { ["stage"] = "overhead", ["busySeconds"] = Math.Round(idle, 3), ["share"] = Math.Round(idle / denominator, 4), ["cpuMsPerItem"] = Math.Round(outsideMs, 2) });
            Console.WriteLine($"{"overhead",-12} {"",6} {idle,9:F2} {"",9} {idle / denominator,7:P1} {outsideMs,12:F1}");
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
            var passes = all.Where(x => x.Stage == "infer").ToList();
            Console.WriteLine($"GPU role: {passes.Count} passes for {plan.Shards.Count} shards (up to {workerOptions.MaxShardsPerPass} shards a pass, batches of up to {workerOptions.MaxBatchSize} items)");
            double wall2 = timed2.Finished - timed2.Submitted;
            double perMinute = made / (wall / 60), perMinute2 = timed2.Made / (wall2 / 60), meanPerMinute = (perMinute + perMinute2) / 2;
            Console.WriteLine($"{plan.ItemCount} items planned, {made} made in {wall:F1} s: {perMinute:F1} items/min ({timed.State}); again: {timed2.Made} in {wall2:F1} s, {perMinute2:F1} items/min");
            double runCpuMsPerItem = 1000 * (cpuRun + cpuRun2) / (made + timed2.Made);

            // the peer: the bare sampler's items/min on the same items (mean of the two measurements around the serial run)
            double bareWall = (bare.WallSeconds + bare2.WallSeconds) / 2, bareCpu = (bare.CpuSeconds + bare2.CpuSeconds) / 2;
            double barePerMinute = items.Count / (bareWall / 60);
            double ratio = meanPerMinute / barePerMinute;
            // the same ratio in CPU time: on a machine the pipeline saturates, items/min go as 1 / CPU per item
            double bareCpuMsPerItem = 1000 * bareCpu / items.Count, cpuRatio = bareCpuMsPerItem / runCpuMsPerItem;
            Console.WriteLine($"bare sampler: {items.Count} items in {bare.WallSeconds:F1} s and {bare2.WallSeconds:F1} s ({barePerMinute:F1} items/min, {bareCpuMsPerItem:F0} CPU ms/item); " +
                              $"identical to the run's samples: {bare.Identical}/{items.Count} and {bare2.Identical}/{items.Count}");
            Console.WriteLine($"pipeline / bare sampler: {ratio:F2} in items/min (wall), {cpuRatio:F2} in CPU per item (pipeline process {runCpuMsPerItem:F0} CPU ms/item, bare {bareCpuMsPerItem:F0})");
            // a GPU that samples gpuSpeedup times faster than this CPU: the CPU stages keep up when their CPU time per item,
            // spread over this machine's cores, is no more than the GPU's time per item. The CPU's sampling speed is the
            // bare sampler's CPU time per item (its wall time on this shared machine moves with other people's load).
            double gpuMsPerItem = bareCpuMsPerItem / gpuSpeedup;
            double budgetMs = gpuMsPerItem * Environment.ProcessorCount;
            bool meets = nonModelCpuMs <= budgetMs;
            Console.WriteLine($"non-model CPU per item: {nonModelCpuMs:F0} ms; a GPU {gpuSpeedup}x this CPU ({bareCpuMsPerItem:F0} CPU ms per item) samples an item in {gpuMsPerItem:F0} ms, so on {Environment.ProcessorCount} cores the " +
                              $"non-model stages must cost <= {budgetMs:F0} CPU ms per item: {(meets ? "met" : "not met")}");

            string repoModel = Path.GetRelativePath(root, model);
            var json = new JsonObject
            {
                ["benchmark"] = "e2e",
                ["domain"] = domain,
                ["description"] = "One augmentation run of the demo workload through the local host (triggers, durable engine, activities) on Azurite (in-memory), " +
                                  "with this process's timed consumer of inference-requests as the GPU role (CPU ONNX inference here; the worker's passes: up to MaxShardsPerPass shards, items batched across them). " +
                                  "busySeconds: summed wall time of the stage's calls (activities wrapped in a timer; infer = one ShardSampler.SampleShardsAsync pass), " +
                                  "concurrent calls add up. overhead: the part of the run's wall time in which no call of any stage ran (engine scheduling, checkpoints, queue and event latency). " +
                                  "share = busySeconds / (sum of busySeconds + overhead). plan+report = Plan, Estimate, RequestInference, Aggregate, Report. " +
                                  "cpuMsPerItem: from a second run of the same request with every call serialised (process CPU over each call / items); overhead's is the process CPU outside every call (engine, storage clients, polling). " +
                                  "Peer: the bare sampler (InpaintingSampler.Sample) on the run's prepared items, same model, steps and batch size, outputs compared byte for byte. " +
                                  "All after one untimed run of the same request (the JIT's first compilations), with the model opened and run once.",
                ["command"] = ("dotnet run -c Release --project bench/Pipeline.Bench -- e2e " + string.Join(" ", args)).TrimEnd(),
                ["date"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
                ["machine"] = new JsonObject
                {
                    ["cores"] = Environment.ProcessorCount,
                    ["loadAverage1mAtStart"] = loadAtStart,
                    ["loadAverage1mAtEnd"] = LoadAverage(),
                    ["note"] = "shared 2-core machine with other builds and tests running; times are upper bounds",
                },
                ["model"] = repoModel.StartsWith("..", StringComparison.Ordinal) ? model : repoModel.Replace('\\', '/'),
                ["modelIsDemoModel"] = Path.GetFullPath(model) == Path.GetFullPath(demoModel),
                ["modelResolution"] = package.Resolution,
                ["images"] = driving ? null : images, ["scenes"] = driving ? scenes : null, ["itemsPerTask"] = perTask, ["shardSize"] = shardSize, ["shards"] = plan.Shards.Count, ["steps"] = effectiveSteps,
                ["maxBatchSize"] = workerOptions.MaxBatchSize, ["maxShardsPerPass"] = workerOptions.MaxShardsPerPass, ["inferencePasses"] = passes.Count,
                ["itemsPlanned"] = plan.ItemCount, ["itemsMade"] = made, ["state"] = timed.State.ToString(),
                ["wallSeconds"] = new JsonArray(Math.Round(wall, 2), Math.Round(wall2, 2)),
                ["itemsPerMinute"] = Math.Round(meanPerMinute, 2),
                ["itemsPerMinuteEachRun"] = new JsonArray(Math.Round(perMinute, 2), Math.Round(perMinute2, 2)),
                ["processCpuMsPerItem"] = Math.Round(runCpuMsPerItem, 1),
                ["warmUpRuns"] = warmUpRuns,
                ["tieredCompilation"] = AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out bool tiered) ? tiered : true,
                ["jitMsPerItem"] = new JsonObject
                {
                    ["warmUpRuns"] = warmUpJit,
                    ["pipelineRuns"] = Math.Round(1000 * (jitRun + jitRun2) / (made + timed2.Made), 1),
                    ["serialRun"] = Math.Round(1000 * jitSerial / Math.Max(1, serial.Made), 1),
                    ["note"] = "time the JIT spent compiling during the run (System.Runtime.JitInfo, all threads), per item: what is left of the tiered compilation after the warm-up runs",
                },
                ["bareSampler"] = new JsonObject
                {
                    ["items"] = items.Count,
                    ["wallSeconds"] = new JsonArray(Math.Round(bare.WallSeconds, 3), Math.Round(bare2.WallSeconds, 3)),
                    ["cpuMsPerItem"] = Math.Round(1000 * bareCpu / items.Count, 1),
                    ["itemsPerMinute"] = Math.Round(barePerMinute, 2),
                    ["identicalToRun"] = new JsonArray(bare.Identical, bare2.Identical),
                },
                ["pipelineOverBareSampler"] = Math.Round(ratio, 3),
                ["pipelineOverBareSamplerCpu"] = Math.Round(cpuRatio, 3),
                ["pipelineOverBareSamplerTarget"] = 0.8,
                ["stages"] = stages,
                ["shareOutsideModel"] = Math.Round(outsideShare, 4),
                ["shareOfWallOutsideModel"] = Math.Round(outsideWallShare, 4),
                ["cpuMsPerItemByCall"] = byActivity,
                ["allocatedMBPerItemByCall"] = allocatedByActivity,
                ["nonModelCpuMsPerItem"] = Math.Round(nonModelCpuMs, 1),
                ["gpuBudget"] = new JsonObject
                {
                    ["assumedGpuSpeedup"] = gpuSpeedup,
                    ["gpuMsPerItem"] = Math.Round(gpuMsPerItem, 1),
                    ["cores"] = Environment.ProcessorCount,
                    ["nonModelCpuMsPerItemAllowed"] = Math.Round(budgetMs, 1),
                    ["met"] = meets,
                    ["note"] = "a GPU sampling assumedGpuSpeedup times faster than this CPU's bare sampler (its CPU ms per item); the CPU stages keep it busy when their CPU ms per item divided by the cores is at most its ms per item. Nothing here ran on a GPU.",
                },
                ["serialRun"] = new JsonObject { ["itemsMade"] = serialMade, ["wallSeconds"] = Math.Round(serial.Finished - serial.Submitted, 2), ["processCpuSeconds"] = Math.Round(serialCpu, 2) },
                ["shardHandoffs"] = new JsonObject
                {
                    ["description"] = "per shard, the gaps between consecutive calls of its chain (Preprocess, RequestInference, ProcessShard = infer, Compose, Measure): engine dispatch, checkpoint and event latency on the shard's critical path; RequestInference -> ProcessShard also holds the queue poll and the wait for the GPU consumer's pass",
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

    /// <summary>One run: submitted, waited for; its items made.</summary>
    private sealed record TimedRun(string RunId, double Submitted, double Finished, RunState State, int Made, string? Error);

    private static async Task<TimedRun> RunAsync(PipelineStorage storage, IOrchestrationClient client, AugmentationRequest request, Stopwatch clock)
    {
        string runId = request.RunId!;
        double submitted = clock.Elapsed.TotalSeconds;
        await QueueMessages.SendAsync(storage.Queue(StorageLayout.AugmentRequestsQueue), PipelineJson.SerializeToUtf8Bytes(request));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        while (await client.GetInstanceAsync(runId, timeout.Token) is null) await Task.Delay(50, timeout.Token);
        var final = await client.WaitForCompletionAsync(runId, timeout.Token);
        double finished = clock.Elapsed.TotalSeconds;
        if (final.State is not (RunState.Completed or RunState.CompletedWithFailures))
            return new TimedRun(runId, submitted, finished, final.State, 0, $"e2e: run {runId} ended {final.State}: {final.Error}");
        var results = await RunResults.ReadItemsAsync(storage.Run(runId), CancellationToken.None);
        return new TimedRun(runId, submitted, finished, final.State, results.Count(r => r.Outcome is ItemOutcome.Succeeded or ItemOutcome.Flagged), null);
    }

    /// <summary>The run's sampled items as the GPU worker read them (prepared tensors), with the samples it wrote.</summary>
    private static async Task<(List<InpaintingItem> Items, List<byte[]> Samples)> PreparedItemsAsync(PipelineStorage storage, string runId)
    {
        var run = storage.Run(runId);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
        var items = new List<InpaintingItem>();
        var samples = new List<byte[]>();
        foreach (var shardRef in plan.Shards)
        {
            var shard = await ShardDocuments.ReadPlanAsync(run, shardRef, CancellationToken.None);
            foreach (var item in shard.Items)
            {
                var gen = await run.ReadAsync(RunBlobs.GenTensors(item.ItemId), CancellationToken.None);
                if (gen is null) continue; // not sampled (failed before)
                var t = TensorBundle.Parse((await run.ReadAsync(RunBlobs.PrepTensors(item.ItemId), CancellationToken.None))!.ToArray(), item.ItemId);
                items.Add(ShardSampler.Input(item, t));
                samples.Add(gen.ToArray());
            }
        }
        return (items, samples);
    }

    private sealed record BareRun(double WallSeconds, double CpuSeconds, int Identical);

    /// <summary>The bare sampler over all items at once (batches of the worker's size); how many outputs equal the run's, byte for byte.</summary>
    private static BareRun BareSampler(InpaintingSampler sampler, List<InpaintingItem> items, List<byte[]> runSamples, SamplingOptions sampling)
    {
        double cpu = ProcessCpu();
        var sw = Stopwatch.StartNew();
        var outputs = sampler.Sample(items, sampling, CancellationToken.None);
        double wall = sw.Elapsed.TotalSeconds, used = ProcessCpu() - cpu;
        int identical = 0;
        for (int i = 0; i < items.Count; i++)
            if (new TensorBundle().Add(ModelTensorNames.Sample, outputs[i]).ToBytes().AsSpan().SequenceEqual(runSamples[i])) identical++;
        return new BareRun(wall, used, identical);
    }

    /// <summary>Replaces each registered activity with a timing wrapper around the same instance.</summary>
    private static void WrapActivities(IServiceCollection services, ConcurrentBag<Span> spans, Stopwatch clock, CallGate gate)
    {
        for (int i = 0; i < services.Count; i++)
        {
            var d = services[i];
            if (d.ServiceType != typeof(IActivity) || d.ImplementationType is null) continue;
            var type = d.ImplementationType;
            services[i] = ServiceDescriptor.Singleton<IActivity>(sp => new TimedActivity((IActivity)ActivatorUtilities.CreateInstance(sp, type), spans, clock, gate));
        }
    }

    private sealed class TimedActivity(IActivity inner, ConcurrentBag<Span> spans, Stopwatch clock, CallGate gate) : IActivity
    {
        public string Name => inner.Name;

        public async Task<object?> RunAsync(JsonElement input, CancellationToken cancellationToken)
        {
            bool serial = gate.Serial;
            if (serial) await gate.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            double start = clock.Elapsed.TotalSeconds, cpu = ProcessCpu();
            long allocated = GC.GetTotalAllocatedBytes();
            try { return await inner.RunAsync(input, cancellationToken).ConfigureAwait(false); }
            finally
            {
                spans.Add(new Span(StageOf(inner.Name), inner.Name, ShardOf(input), start, clock.Elapsed.TotalSeconds, ProcessCpu() - cpu, RunOf(input),
                    GC.GetTotalAllocatedBytes() - allocated));
                if (serial) gate.Lock.Release();
            }
        }
    }

    /// <summary>The run id of an activity's input ({"runId": ...}, at the top or in its request), else "".</summary>
    private static string RunOf(JsonElement input)
    {
        if (input.ValueKind != JsonValueKind.Object) return "";
        if (input.TryGetProperty("runId", out var id) && id.ValueKind == JsonValueKind.String) return id.GetString()!;
        foreach (var p in input.EnumerateObject())
            if (p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("runId", out var inner) && inner.ValueKind == JsonValueKind.String) return inner.GetString()!;
        return "";
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

    /// <summary>The GPU role as <see cref="InferenceWorker"/> runs it (receive up to <paramref name="maxShards"/> messages,
    /// sample their shards in one pass, raise each shard's done event, delete), timing each pass.</summary>
    private static async Task GpuRoleAsync(PipelineStorage storage, ShardSampler worker, IOrchestrationClient client, int maxShards,
        ConcurrentBag<Span> spans, Stopwatch clock, CallGate gate, CancellationToken stop)
    {
        var queue = storage.Queue(StorageLayout.InferenceRequestsQueue);
        while (!stop.IsCancellationRequested)
        {
            var received = await queue.ReceiveMessagesAsync(maxShards, TimeSpan.FromMinutes(10), stop);
            if (received.Value.Length == 0) { await Task.Delay(TimeSpan.FromMilliseconds(500), stop); continue; } // the worker's default poll
            var requests = received.Value.Select(m => PipelineJson.Deserialize<InferenceRequestMessage>(QueueMessages.Decode(m), "inference request")).ToList();
            bool serial = gate.Serial;
            if (serial) await gate.Lock.WaitAsync(stop);
            double start = clock.Elapsed.TotalSeconds, cpu = ProcessCpu();
            long allocated = GC.GetTotalAllocatedBytes();
            ShardPass pass;
            try { pass = await worker.SampleShardsAsync(requests, stop); }
            finally
            {
                double end = clock.Elapsed.TotalSeconds, used = ProcessCpu() - cpu;
                // one span for the pass (busy time, CPU), and per shard a marker span for its chain's hand-offs
                spans.Add(new Span("infer", "ProcessShard", null, start, end, used, requests[0].RunId, GC.GetTotalAllocatedBytes() - allocated));
                foreach (var r in requests) spans.Add(new Span("infer-shard", "ProcessShard", r.ShardIndex, start, end, 0, r.RunId));
                if (serial) gate.Lock.Release();
            }
            for (int i = 0; i < requests.Count; i++)
            {
                var done = pass.Shards[i].Done ?? new InferenceDone(requests[i].ShardIndex, 0, 0, pass.Shards[i].Error?.Message);
                await client.RaiseEventAsync(requests[i].InstanceId, RunActivityNames.InferenceDoneEvent(requests[i].ShardIndex), done, stop);
                await queue.DeleteMessageAsync(received.Value[i].MessageId, received.Value[i].PopReceipt, stop);
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
