using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Imaging.Ingestion;
using Pipeline.Imaging.Preprocessing;
using Pipeline.Inference.Packages;
using Pipeline.Inference.Sampling;
using Pipeline.Inference.Schedulers;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Host.Runs;

/// <summary>
/// Plan: reads the dataset's index and annotations, checks the model package, chooses the items deterministically from
/// the seed (<see cref="RunPlanner"/>), and writes runs/{id}/plan.json plus one blob per shard. A missing dataset or
/// model, or an impossible per-class target, comes back as problems (the run is rejected, nothing generated).
/// </summary>
public sealed class PlanActivity(PipelineStorage storage, ModelProvider models, ILogger<PlanActivity> logger) : Activity<PlanInput, PlanOutcome>
{
    public override string Name => RunActivityNames.Plan;

    public override async Task<PlanOutcome> RunAsync(PlanInput input, CancellationToken cancellationToken)
    {
        var request = input.Request;
        var run = storage.Run(input.RunId);
        var problems = new List<string>();
        await run.WriteJsonIfAbsentAsync(RunBlobs.Request, request, cancellationToken).ConfigureAwait(false);

        var dataset = storage.Dataset(request.Dataset);
        var index = await dataset.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        if (index is null) problems.Add($"dataset '{request.Dataset}' not found: datasets/{request.Dataset}/{DatasetIndex.BlobName} does not exist (upload the dataset and wait for ingestion)");

        string? modelSha = null;
        try { modelSha = (await models.GetPackageAsync(request.Model, cancellationToken).ConfigureAwait(false)).ManifestSha256; }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException or ModelPackageException)
        { problems.Add($"model '{request.Model}': {e.Message}"); }
        if (problems.Count > 0) return new PlanOutcome { RunId = input.RunId, Problems = problems };

        var paths = index!.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        if (DatasetAnnotations.Detect(paths) is not { } annotation)
            return new PlanOutcome { RunId = input.RunId, Problems = [$"dataset '{request.Dataset}' has no annotation file ({DatasetAnnotations.VinDrFile}, {DatasetAnnotations.GenericCsvFile} or {DatasetAnnotations.GenericJsonFile})"] };
        var text = (await dataset.ReadAsync(annotation.File, cancellationToken).ConfigureAwait(false))!.ToString();
        var rowProblems = new List<string>();
        var findings = DatasetAnnotations.Parse(annotation.Format, annotation.File, text, rowProblems);
        foreach (var p in rowProblems) logger.LogWarning("Dataset {Dataset}: {Problem}", request.Dataset, p);
        var usable = DatasetImages.FromFindings(findings, $"{StorageLayout.DatasetsContainer}/{request.Dataset}/", paths);

        var decoded = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var planned = RunPlanner.Plan(request, usable, (AnnotatedImage target, double w, double h, ref SplitMix64 rng) =>
        {
            using var source = SourceImage.Decode(ReadBlob(target.Path, cancellationToken), target.Path);
            var fg = BreastForegroundMask.Compute(source.Display.Pixels<float>(), source.Width, source.Height);
            var placement = InsertionSampler.Sample(fg, source.Width, source.Height, w, h, ref rng);
            var b = placement.Box;
            return new BoundingBox(b.Left, b.Top, b.Left + b.Width, b.Top + b.Height);
        });
        if (planned.Problems.Count > 0) return new PlanOutcome { RunId = input.RunId, Problems = planned.Problems };

        var shards = new List<ShardRef>();
        int shardSize = Math.Max(1, request.ShardSize);
        for (int s = 0; s * shardSize < planned.Items.Count; s++)
        {
            var items = planned.Items.Skip(s * shardSize).Take(shardSize).ToList();
            string blob = RunBlobs.PlanShard(s);
            await run.WriteJsonIfAbsentAsync(blob, new PlanShard { RunId = input.RunId, Index = s, Items = items }, cancellationToken).ConfigureAwait(false);
            shards.Add(new ShardRef(s, items.Count, blob));
        }
        var plan = new RunPlan
        {
            RunId = input.RunId, Request = request, Model = request.Model, ModelSha256 = modelSha,
            DatasetIndexSha256 = (await storage.GetSha256Async(dataset.IndexPath, cancellationToken).ConfigureAwait(false))?.Sha256,
            ItemCount = planned.Items.Count, Shards = shards, Shortfalls = planned.Shortfalls,
        };
        await run.WriteJsonIfAbsentAsync(RunBlobs.Plan, plan, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Run {RunId}: planned {Items} items in {Shards} shards", input.RunId, plan.ItemCount, shards.Count);
        return new PlanOutcome { RunId = input.RunId, ItemCount = plan.ItemCount, Shards = shards, Shortfalls = planned.Shortfalls };

        byte[] ReadBlob(string path, CancellationToken ct)
        {
            if (decoded.TryGetValue(path, out var b)) return b;
            var data = storage.ReadAsync(BlobPath.Parse(path), ct).GetAwaiter().GetResult()
                       ?? throw new FileNotFoundException($"{path} is listed in the dataset index but does not exist");
            return decoded[path] = data.ToArray();
        }
    }
}

/// <summary>
/// Estimate (dry run): items, denoiser calls and the expected time on this machine, from a quick calibration (a few
/// denoiser calls of the model at the run's batch shape), written to runs/{id}/estimate.json.
/// </summary>
public sealed class EstimateActivity(PipelineStorage storage, ModelProvider models) : Activity<RunStageInput, EstimateOutcome>
{
    public override string Name => RunActivityNames.Estimate;

    public override async Task<EstimateOutcome> RunAsync(RunStageInput input, CancellationToken cancellationToken)
    {
        var run = storage.Run(input.RunId);
        var existing = await run.ReadJsonAsync<EstimateOutcome>(RunBlobs.Estimate, cancellationToken).ConfigureAwait(false);
        if (existing is not null) return existing.Value;
        var plan = await ShardDocuments.ReadRunPlanAsync(run, cancellationToken).ConfigureAwait(false);
        var package = await models.GetPackageAsync(plan.Model, cancellationToken).ConfigureAwait(false);
        var options = InferenceWorker.SamplingFor(plan.Request, package);
        var scheduler = SchedulerFactory.Create(options.Scheduler!, package.Schedule with { Eta = options.Eta ?? 0 });
        scheduler.SetTimesteps(options.Steps!.Value);
        bool cfg = (options.GuidanceScale ?? 1.0) != 1.0;
        long itemSteps = (long)plan.ItemCount * scheduler.ModelEvaluations;
        long calls = itemSteps * (cfg ? 2 : 1); // denoiser rows: CFG stacks the unconditional and conditional branches

        // Calibrate: two dummy items, two steps, timed after one warm-up call of the same shape.
        var model = models.GetModel(package);
        var sampler = new InpaintingSampler(model, SchedulerFactory.Create);
        var dummy = InferenceWorker.DummyItems(package, 2);
        var calibration = options with { Steps = 2, Progress = null };
        sampler.Sample(dummy, calibration, cancellationToken);
        var sw = Stopwatch.StartNew();
        sampler.Sample(dummy, calibration, cancellationToken);
        double perItemStep = sw.Elapsed.TotalSeconds / (2.0 * 2.0);
        var estimate = new EstimateOutcome(plan.ItemCount, calls, perItemStep / (cfg ? 2 : 1), itemSteps * perItemStep, $"runs/{input.RunId}/{RunBlobs.Estimate}");
        await run.WriteJsonIfAbsentAsync(RunBlobs.Estimate, estimate, cancellationToken).ConfigureAwait(false);
        return estimate;
    }
}
