using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Host.Ingestion;
using Pipeline.Host.Runs;
using Pipeline.Imaging.Ingestion;
using Pipeline.Imaging.Synthetic;
using Pipeline.Mammography.Planning;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;

namespace Pipeline.Bench.Scale;

/// <summary>
/// Dataset scale on Azurite: a dataset of many small images (the cost measured is listing, reading, hashing,
/// validation and indexing, not decoding big pixels) is ingested as the blob-drop trigger does
/// (<see cref="ValidatingDatasetIngestor"/>), then ingested again after one file changed (incremental validation),
/// then a run of many items is planned from it (<see cref="MammographyPlanner"/>). Time and memory are reported at two
/// dataset sizes, so memory growth can be set against the index's. Writes bench/results/scale.json.
/// <c>dotnet run -c Release --project bench/Pipeline.Bench -- scale [--images 20000] [--items 10000] [--small 5000] [--side 64]</c>
/// </summary>
public sealed class DatasetScaleBenchmark : IBenchmark
{
    public string Name => "scale";
    public string Description => "dataset scale: ingest 20,000 images on Azurite, re-ingest after one change, plan 10,000 items; time and memory";

    public async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--help"))
        {
            Console.WriteLine("scale [--images 20000] [--items 10000] [--small 5000] [--side 64]: ingestion, re-ingestion and planning at scale on Azurite");
            return 0;
        }
        int images = BenchArgs.Int(args, "--images", 20_000), items = BenchArgs.Int(args, "--items", 10_000), small = BenchArgs.Int(args, "--small", 5_000), side = BenchArgs.Int(args, "--side", 64);
        using var azurite = await AzuriteServer.StartAsync();
        var storage = new PipelineStorage(azurite.ConnectionString);
        await storage.EnsureCreatedAsync();
        var result = new JsonObject
        {
            ["benchmark"] = Name,
            ["date"] = DateTimeOffset.UtcNow.ToString("u"),
            ["machine"] = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            ["loadAverageAtStart"] = LoadAverage(),
            ["storage"] = "Azurite (in memory), loopback",
            ["imageSide"] = side,
            ["ingestionParallelism"] = new DatasetIngestionOptions().MaxDegreeOfParallelism,
        };
        var sizes = new JsonArray();
        foreach (int n in new[] { small, images }.Distinct())
            sizes.Add(await MeasureAsync(storage, azurite.ConnectionString, $"scale-{n}", n, n == images ? items : items * n / images, side));
        result["sizes"] = sizes;
        if (sizes.Count == 2)
        {
            // memory per additional file, set against the index's bytes per additional file
            var (a, b) = (sizes[0]!, sizes[1]!);
            static double D(JsonNode? n) => double.Parse(n!.ToJsonString(), CultureInfo.InvariantCulture);
            double files = D(b["files"]) - D(a["files"]);
            double Slope(string stage, string key) => Math.Round((D(b[stage]![key]) - D(a[stage]![key])) / files, 1);
            result["perAdditionalFile"] = new JsonObject
            {
                ["indexBytes"] = Math.Round((D(b["indexBytes"]) - D(a["indexBytes"])) / files, 1),
                ["ingestionPeakManagedHeapBytes"] = Slope("ingestion", "peakManagedHeapDeltaBytes"),
                ["indexInMemoryCompactBytes"] = Slope("indexInMemory", "compactBytes"),
                ["indexInMemoryRecordBytes"] = Slope("indexInMemory", "recordBytes"),
                ["reingestionPeakManagedHeapBytes"] = Slope("reingestionAfterOneChange", "peakManagedHeapDeltaBytes"),
                ["planningPeakManagedHeapBytes"] = Slope("planning", "peakManagedHeapDeltaBytes"),
                ["planningPlanLiveBytes"] = Slope("planning", "planLiveBytes"),
                ["planningPeakWithoutPlanBytes"] = Slope("planning", "peakWithoutPlanBytes"),
                ["note"] = "(value at the larger size - value at the smaller) / (files at the larger - files at the smaller): what one more file costs. " +
                           "Peak = live objects plus garbage not yet collected, sampled every 20 ms, above what was live before (planning's items also grow with the dataset here: " +
                           "planLiveBytes is what the finished plan holds, peakWithoutPlanBytes the peak less that); " +
                           "indexInMemory = the index read from storage and held: compact (DatasetIndexReader) or as records (the JSON deserialised into DatasetFile/DatasetFinding objects).",
            };
            Console.WriteLine("per additional file: " + result["perAdditionalFile"]!.ToJsonString());
        }
        result["loadAverageAtEnd"] = LoadAverage();
        Directory.CreateDirectory(Path.Combine("bench", "results"));
        string path = Path.Combine("bench", "results", "scale.json");
        await File.WriteAllTextAsync(path, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"wrote {path}");
        return 0;
    }

    private static async Task<JsonObject> MeasureAsync(PipelineStorage storage, string connectionString, string name, int images, int items, int side)
    {
        var dataset = storage.Dataset(name);
        var upload = Stopwatch.StartNew();
        string changed = await UploadAsync(dataset, images, side);
        Console.WriteLine($"{name}: generated and uploaded {images} synthetic DICOMs + annotations in {upload.Elapsed.TotalSeconds:F1} s (setup, not measured)");

        var ingestor = new ValidatingDatasetIngestor(storage, options: Options.Create(new DatasetIngestionOptions()));
        var first = await MeasuredAsync(() => ingestor.IngestAndReportAsync(name, CancellationToken.None));
        var index = first.Value.Index;
        long indexBytes = JsonSerializer.SerializeToUtf8Bytes(index, PipelineJson.Options).LongLength;
        int fileCount = index.FileCount, problems = index.Problems.Count;
        Console.WriteLine($"{name}: ingested {fileCount} files in {first.Seconds:F1} s ({fileCount / first.Seconds:F0} files/s, {first.CpuSeconds:F1} s CPU), " +
                          $"{first.Value.Report.ValidImages} valid, {problems} problems; managed heap peak +{first.PeakHeapDelta / 1e6:F1} MB; index {indexBytes / 1e6:F1} MB");
        var ingestion = new JsonObject
        {
            ["seconds"] = Math.Round(first.Seconds, 2), ["cpuSeconds"] = Math.Round(first.CpuSeconds, 2),
            ["filesPerSecond"] = Math.Round(fileCount / first.Seconds, 1),
            ["peakManagedHeapDeltaBytes"] = first.PeakHeapDelta, ["peakWorkingSetBytes"] = first.PeakWorkingSet,
            ["validImages"] = first.Value.Report.ValidImages, ["problems"] = problems,
        };
        first = null!; index = null!; // the ingestion's result is not part of what follows

        // The index in memory, read from storage: as the reader makes it (compact lists), and as plain records (the JSON
        // deserialised into DatasetFile/DatasetFinding objects, how it was held before): live bytes after a full
        // collection with the index held, minus the same once it is dropped.
        var store = storage.Dataset(name);
        long compactBytes = await LiveBytesOfAsync(async () => await store.ReadIndexAsync(CancellationToken.None));
        long recordBytes = await LiveBytesOfAsync(async () =>
        {
            var json = (await store.ReadAsync(DatasetIndex.BlobName, CancellationToken.None))!;
            return PipelineJson.Deserialize<DatasetIndex>(json.ToMemory().Span, "index");
        });
        var indexInMemory = new JsonObject
        {
            ["compactBytes"] = compactBytes, ["recordBytes"] = recordBytes,
            ["compactBytesPerFile"] = Math.Round((double)compactBytes / fileCount, 1), ["recordBytesPerFile"] = Math.Round((double)recordBytes / fileCount, 1),
            ["indexJsonBytesPerFile"] = Math.Round((double)indexBytes / fileCount, 1),
        };
        Console.WriteLine($"{name}: the index in memory: {compactBytes / 1e6:F1} MB compact ({(double)compactBytes / fileCount:F0} bytes per file), " +
                          $"{recordBytes / 1e6:F1} MB as records ({(double)recordBytes / fileCount:F0}); index JSON {(double)indexBytes / fileCount:F0} bytes per file");

        // One image replaced by a user (runs never write under datasets/): the same DICOM with one more trailing byte, so
        // its ETag and size change and it stays valid.
        var container = new BlobContainerClient(connectionString, StorageLayout.DatasetsContainer);
        var blob = container.GetBlobClient($"{name}/{changed}");
        var original = (await blob.DownloadContentAsync()).Value.Content.ToArray();
        await blob.UploadAsync(BinaryData.FromBytes([.. original, 0]), overwrite: true);
        var again = await MeasuredAsync(() => ingestor.IngestAndReportAsync(name, CancellationToken.None));
        int read = again.Value.Index.FileCount - again.Value.ReusedFiles;
        Console.WriteLine($"{name}: re-ingested after changing {changed} in {again.Seconds:F1} s ({read} file(s) read, {again.Value.ReusedFiles} reused); " +
                          $"managed heap peak +{again.PeakHeapDelta / 1e6:F1} MB");
        var reingestion = new JsonObject
        {
            ["changed"] = changed, ["seconds"] = Math.Round(again.Seconds, 2), ["cpuSeconds"] = Math.Round(again.CpuSeconds, 2),
            ["filesRead"] = read, ["filesReused"] = again.Value.ReusedFiles, ["peakManagedHeapDeltaBytes"] = again.PeakHeapDelta,
        };
        again = null!;

        var request = new AugmentationRequest
        {
            Dataset = name, Model = "bench", Seed = 7,
            Tasks =
            [
                new AugmentationTask { Mode = TaskMode.Reinsertion, Count = items * 4 / 10 },
                new AugmentationTask { Mode = TaskMode.Replacement, Count = items * 4 / 10 },
                new AugmentationTask { Mode = TaskMode.Insertion, Count = items - 2 * (items * 4 / 10) },
            ],
        };
        // planning as the Plan activity does it: the index read from storage (its paths and the findings ingestion
        // resolved), then the planner
        async Task<PlannedItems> PlanAsync()
        {
            var stored = (await storage.Dataset(name).ReadIndexAsync(CancellationToken.None))!;
            var files = new DatasetFiles(name, $"{StorageLayout.DatasetsContainer}/{name}/", DatasetPathSet.Of(stored), stored.Findings);
            return await new MammographyPlanner().PlanAsync(request, files, new StorageBlobReader(storage), CancellationToken.None);
        }
        var plan = await MeasuredAsync(PlanAsync);
        // what the plan itself holds (its items), measured apart: the part of planning's peak that is the run's output
        long planBytes = await LiveBytesOfAsync(PlanAsync);
        Console.WriteLine($"{name}: planned {plan.Value.Items.Count} of {items} items in {plan.Seconds:F1} s ({plan.CpuSeconds:F1} s CPU); managed heap peak +{plan.PeakHeapDelta / 1e6:F1} MB, of which the plan holds {planBytes / 1e6:F1} MB" +
                          (plan.Value.Problems.Count > 0 ? $"; problems: {string.Join("; ", plan.Value.Problems)}" : "") +
                          (plan.Value.Shortfalls.Count > 0 ? $"; shortfalls: {string.Join("; ", plan.Value.Shortfalls)}" : ""));
        return new JsonObject
        {
            ["images"] = images, ["files"] = fileCount, ["indexBytes"] = indexBytes,
            ["ingestion"] = ingestion,
            ["indexInMemory"] = indexInMemory,
            ["reingestionAfterOneChange"] = reingestion,
            ["planning"] = new JsonObject
            {
                ["itemsRequested"] = items, ["itemsPlanned"] = plan.Value.Items.Count,
                ["seconds"] = Math.Round(plan.Seconds, 2), ["cpuSeconds"] = Math.Round(plan.CpuSeconds, 2),
                ["peakManagedHeapDeltaBytes"] = plan.PeakHeapDelta, ["peakWorkingSetBytes"] = plan.PeakWorkingSet,
                ["planLiveBytes"] = planBytes, ["peakWithoutPlanBytes"] = plan.PeakHeapDelta - planBytes,
                ["shortfalls"] = new JsonArray(plan.Value.Shortfalls.Select(s => (JsonNode)s!).ToArray()),
            },
        };
    }

    /// <summary>
    /// The synthetic VinDr-Mammo dataset (16-bit MG DICOMs, finding_annotations.csv) at <paramref name="side"/> x
    /// <paramref name="side"/> pixels, written to a temporary folder and uploaded 16 blobs at a time. Returns one
    /// image's relative path and the bytes of a changed version of it (a re-exported file: the same pixels with
    /// another trailing byte count, so it stays a valid DICOM).
    /// </summary>
    private static async Task<string> UploadAsync(DatasetStore dataset, int images, int side)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"bench-scale-{Guid.NewGuid():N}");
        try
        {
            await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = images, Seed = 2026, Rows = side, Columns = side }, folder);
            var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (file, ct) =>
            {
                await using var f = File.OpenRead(file);
                await dataset.UploadAsync(Path.GetRelativePath(folder, file).Replace('\\', '/'), f, cancellationToken: ct);
            });
            return Path.GetRelativePath(folder, files.First(f => f.EndsWith(".dicom", StringComparison.Ordinal) && files.IndexOf(f) >= files.Count / 2)).Replace('\\', '/');
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    private sealed record Measured<T>(T Value, double Seconds, double CpuSeconds, long PeakHeapDelta, long PeakWorkingSet);

    /// <summary>Runs <paramref name="work"/> with wall and CPU time, and the peak managed heap above the start sampled every
    /// 20 ms (live objects and garbage not yet collected: an upper bound of what the work needed at once).</summary>
    private static async Task<Measured<T>> MeasuredAsync<T>(Func<Task<T>> work)
    {
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long start = GC.GetTotalMemory(true), peak = start;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                try { await Task.Delay(20, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var value = await work();
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        stop.Cancel();
        await sampler;
        peak = Math.Max(peak, GC.GetTotalMemory(false));
        return new Measured<T>(value, seconds, cpuSeconds, peak - start, process.PeakWorkingSet64);
    }

    /// <summary>What <paramref name="make"/>'s result holds: live managed bytes after a full collection with the result
    /// held, minus the same once it is dropped (so whatever else becomes garbage meanwhile does not count).</summary>
    private static async Task<long> LiveBytesOfAsync<T>(Func<Task<T>> make) where T : class
    {
        var holder = new T?[1];
        holder[0] = await make();
        // measured from a new frame: the one that awaited make() may keep its awaiter (and so the result) reported live
        await Task.Yield();
        long with = GC.GetTotalMemory(true);
        holder[0] = null;
        long without = GC.GetTotalMemory(true);
        return with - without;
    }

    private static string? LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;
}
