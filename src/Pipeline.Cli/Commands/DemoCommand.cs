using System.CommandLine;
using System.Diagnostics;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Core.Runs;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Imaging.Synthetic;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Storage.Blobs;
using Spectre.Console;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline demo</c>: the main job end to end on this machine. Starts Azurite (data in .pipeline/demo/azurite)
/// unless AzureWebJobsStorage names a real account, writes the synthetic mammography dataset, uploads it under
/// datasets/, waits for ingestion, uploads the demo model under models/, enqueues an augmentation request (insertion,
/// replacement and reinsertion), serves until the run ends with progress shown, prints the summary, downloads the
/// report and the augmented dataset to .pipeline/demo/, and stops Azurite. A rerun reuses what exists (same run id).
/// </summary>
public sealed class DemoCommand : ICommandGroup
{
    public Command Build()
    {
        var cmd = new Command("demo", "Run the local demo: synthetic mammograms (or, with --domain driving, synthetic driving scenes) -> datasets/ -> augmentation run with the demo model -> report and augmented dataset.");
        var domain = new Option<string>("--domain") { Description = "mammography (synthetic mammograms, models/mammo-tiny) or driving (synthetic camera + lidar scenes, models/driving-tiny).", DefaultValueFactory = _ => "mammography" };
        domain.AcceptOnlyFromAmong("mammography", "driving");
        var scenes = new Option<int>("--scenes") { Description = "Driving: synthetic scenes to generate (4 key frames each).", DefaultValueFactory = _ => 3 };
        var count = new Option<int>("--images") { Description = "Synthetic images to generate.", DefaultValueFactory = _ => 16 };
        var items = new Option<int?>("--items-per-task") { Description = "Items per task (insertion, replacement, reinsertion); default 8 (driving 3)." };
        var steps = new Option<int?>("--steps") { Description = "Sampler steps (default: the model's)." };
        var seed = new Option<long>("--seed") { Description = "Run seed.", DefaultValueFactory = _ => 2026 };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model package folder (default models/mammo-tiny, or models/driving-tiny with --domain driving)." };
        var fresh = new Option<bool>("--fresh") { Description = "Start from empty storage (deletes .pipeline/demo)." };
        foreach (var o in new Option[] { domain, count, scenes, items, steps, seed, model, fresh }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                bool driving = parse.GetValue(domain) == "driving";
                return await RunAsync(driving, driving ? parse.GetValue(scenes) : parse.GetValue(count), parse.GetValue(items) ?? (driving ? 3 : 8), parse.GetValue(steps), parse.GetValue(seed),
                    parse.GetValue(model)?.FullName, parse.GetValue(fresh), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return ExitCodes.Cancelled; }
        });
        return cmd;
    }

    private static async Task<int> RunAsync(bool driving, int images, int itemsPerTask, int? steps, long seed, string? modelFolder, bool fresh, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        string root = CliStorage.RepositoryRoot;
        string work = Path.Combine(root, ".pipeline", "demo");
        if (fresh && Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        modelFolder ??= Path.Combine(root, "models", driving ? "driving-tiny" : "mammo-tiny");
        if (!File.Exists(Path.Combine(modelFolder, "model.json")))
        {
            Console.Error.WriteLine($"demo: no model package at {modelFolder} (model.json missing). Train one with training/train.py or pass --model.");
            return ExitCodes.NotFound;
        }

        var configuration = CliStorage.BuildConfiguration();
        string? cs = CliStorage.ConnectionString(configuration);
        if (cs is null) return ExitCodes.Usage;
        AzuriteServer? azurite = null;
        try
        {
            if (DevelopmentStorage.IsDevelopmentStorage(cs))
            {
                // the demo's own Azurite on free ports, data kept for reruns
                azurite = await AzuriteServer.StartAsync(new AzuriteOptions { Location = Path.Combine(work, "azurite"), RepositoryRoot = root }, cancellationToken);
                cs = azurite.ConnectionString;
                Step($"Azurite started (pid {azurite.ProcessId}, blob port {azurite.BlobPort}, data in {Path.Combine(work, "azurite")})");
            }
            else Step("Using the storage account of AzureWebJobsStorage");

            await using var host = await LocalPipelineHost.StartAsync(cs, new Dictionary<string, string?>
            {
                ["Pipeline:Triggers:DatasetDrop:PollInterval"] = "00:00:01",
                ["Pipeline:Triggers:DatasetDrop:Debounce"] = "00:00:02",
                ["Pipeline:Run:ShardsPerGroup"] = "1",
                ["Pipeline:Models:CacheDirectory"] = Path.Combine(work, "model-cache"),
                // the repository's patch networks, reported under their names (never as FID/LPIPS/CLIP-I proper):
                // phantom-net (trained on the synthetic mammograms: FD[phantom-net], LPIPS[phantom-net], CLIP-I[phantom-net])
                // and for driving drive-net (trained on the synthetic driving scenes: also D-LPIPS[drive-net],
                // I-LPIPS[drive-net]); docs/metrics.md says how to use real Inception/LPIPS/CLIP exports instead
                ["Pipeline:Metrics:Features"] = FeatureModel(root, driving ? "drive-net" : "phantom-net"),
                ["Pipeline:Metrics:Lpips"] = FeatureModel(root, driving ? "drive-net-lpips" : "phantom-net-lpips"),
                ["Pipeline:Metrics:Embedding"] = FeatureModel(root, driving ? "drive-net-embed" : "phantom-net-embed"),
                ["Pipeline:Metrics:MinSetSamples"] = "4",
            }, cancellationToken: cancellationToken);
            var storage = host.Storage;

            // 1. synthetic dataset
            string datasetName = driving ? $"synthetic-driving-{images}" : $"synthetic-mammo-{images}";
            string datasetFolder = Path.Combine(work, "datasets", datasetName);
            var drivingOptions = new Pipeline.Driving.Synthetic.SyntheticDrivingOptions { Scenes = images, SamplesPerScene = 4, Seed = 42 };
            if (driving)
            {
                if (!File.Exists(Path.Combine(datasetFolder, drivingOptions.Version, "scene.json")))
                {
                    var summary = await AnsiConsole.Progress().AutoClear(true).StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask("ray casting key frames", maxValue: images * drivingOptions.SamplesPerScene);
                        return await Pipeline.Driving.Synthetic.SyntheticDrivingDataset.WriteToFolderAsync(drivingOptions, datasetFolder, new Progress<int>(n => task.Value = n), cancellationToken);
                    });
                    Step($"Generated {summary.Scenes} synthetic driving scenes ({summary.Samples} key frames, {summary.Annotations} annotations)");
                }
                else Step($"Reusing the synthetic dataset in {datasetFolder}");
            }
            else if (!File.Exists(Path.Combine(datasetFolder, SyntheticMammoDataset.AnnotationFileName)))
            {
                var summary = await SyntheticMammoDataset.WriteToFolderAsync(new SyntheticMammoOptions { Count = images, Seed = 42 }, datasetFolder, cancellationToken: cancellationToken);
                Step($"Generated {summary.Images} synthetic mammograms ({summary.Findings} findings: {string.Join(", ", summary.FindingsByCategory.Select(p => $"{p.Key} {p.Value}"))})");
            }
            else Step($"Reusing the synthetic dataset in {datasetFolder}");

            // 2. upload (write-if-absent: a rerun uploads nothing) and wait for the blob-drop trigger's ingestion
            var dataset = storage.Dataset(datasetName);
            int uploaded = 0;
            foreach (var file in Directory.EnumerateFiles(datasetFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                await using var s = File.OpenRead(file);
                if ((await dataset.UploadAsync(Path.GetRelativePath(datasetFolder, file).Replace('\\', '/'), s, cancellationToken: cancellationToken)).Written) uploaded++;
            }
            Step($"Uploaded {uploaded} files to datasets/{datasetName}/");
            var waitUntil = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (await dataset.ReadIndexAsync(cancellationToken) is null)
            {
                if (DateTime.UtcNow > waitUntil) { Console.Error.WriteLine("demo: ingestion did not write _index.json within 2 minutes"); return ExitCodes.Unavailable; }
                await Task.Delay(500, cancellationToken);
            }
            var index = (await dataset.ReadIndexAsync(cancellationToken))!;
            Step($"Ingested: {index.FileCount} files, {index.TotalBytes / 1e6:0.0} MB{(index.Problems.Count > 0 ? $", {index.Problems.Count} problems" : "")}");

            // 3. the model package under models/{name}/{version}/
            var package = await Pipeline.Inference.Packages.ModelPackage.LoadAsync(modelFolder, cancellationToken);
            foreach (var file in Directory.EnumerateFiles(modelFolder).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal))
            {
                await using var s = File.OpenRead(file);
                await storage.WriteIfAbsentAsync(BlobPath.Model(package.Name, package.Version, Path.GetFileName(file)), s, cancellationToken: cancellationToken);
            }
            string modelRef = $"models/{package.Name}/{package.Version}";
            Step($"Model {modelRef} ({package.Kind}, {package.Resolution} px, sha256 {package.ManifestSha256[..12]})");

            // 4. the request
            // the model's version is part of the run id, so two models compare on the same items in one storage account
            // (run ids are lowercase letters, digits and dashes: the version's dots become dashes)
            string runId = $"demo-{datasetName}-{package.Name}-{package.Version.Replace('.', '-')}-s{seed}-n{itemsPerTask}".ToLowerInvariant()
                           + (steps is { } st ? $"-k{st}" : "");
            var request = new AugmentationRequest
            {
                RunId = runId, Dataset = datasetName, Model = modelRef, Seed = seed, ShardSize = 4,
                Tasks =
                [
                    new AugmentationTask { Mode = TaskMode.Insertion, Count = itemsPerTask },
                    new AugmentationTask { Mode = TaskMode.Replacement, Count = itemsPerTask },
                    new AugmentationTask { Mode = TaskMode.Reinsertion, Count = itemsPerTask },
                ],
                Sampler = steps is null ? null : new SamplerSettings { Steps = steps },
                RealismGate = driving ? null : new RealismGate { MinSsim = 0.5 },
            };
            if (await host.Orchestrations.GetInstanceAsync(runId, cancellationToken) is null)
            {
                await host.SubmitAsync(request, cancellationToken);
                Step($"Enqueued run {runId} on augment-requests ({request.TotalItems} items)");
            }
            else Step($"Run {runId} exists; following it");

            var waitInstance = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (await host.Orchestrations.GetInstanceAsync(runId, cancellationToken) is null && DateTime.UtcNow < waitInstance) await Task.Delay(300, cancellationToken);
            int exit = await StatusCommand.FollowAsync(storage, runId, TimeSpan.FromMinutes(60), cancellationToken);

            // 5. results to the local folder
            var final = await host.Orchestrations.GetInstanceAsync(runId, cancellationToken);
            var result = final?.ReadOutput<Pipeline.Core.Runs.RunSummary>();
            string outFolder = Path.Combine(work, "runs", runId);
            int files = 0;
            await foreach (var e in storage.Run(runId).ListAsync(null, cancellationToken))
            {
                string rel = e.Path.Name[(runId.Length + 1)..];
                if (!(rel.StartsWith("out/") || rel is RunBlobs.ReportHtml or RunBlobs.ReportJson or RunBlobs.Plan or "status.json")) continue;
                string local = Path.Combine(outFolder, rel.Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                await File.WriteAllBytesAsync(local, (await storage.ReadAsync(e.Path, cancellationToken))!.ToArray(), cancellationToken);
                files++;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
            if (result is not null)
            {
                table.AddRow("planned", result.Planned.ToString());
                table.AddRow("succeeded", $"[green]{result.Succeeded}[/]");
                table.AddRow("flagged (realism gate)", $"[yellow]{result.Flagged}[/]");
                table.AddRow("failed", result.Failed == 0 ? "0" : $"[red]{result.Failed}[/]");
                foreach (var p in result.Problems) table.AddRow("note", Markup.Escape(p));
            }
            table.AddRow("report", Markup.Escape(Path.Combine(outFolder, RunBlobs.ReportHtml)));
            table.AddRow("augmented dataset", Markup.Escape(Path.Combine(outFolder, "out")) + $" ({files} files)");
            table.AddRow("annotations", Markup.Escape(driving ? Path.Combine(outFolder, "out", drivingOptions.Version) + " (nuScenes tables)" : Path.Combine(outFolder, RunBlobs.Annotations.Replace('/', Path.DirectorySeparatorChar))));
            table.AddRow("time", $"{clock.Elapsed.TotalSeconds:0} s");
            AnsiConsole.Write(table);
            return exit;
        }
        finally
        {
            azurite?.Dispose();
            if (azurite is not null) Step("Azurite stopped");
        }
    }

    private static string? FeatureModel(string root, string name)
    {
        string folder = Path.Combine(root, "training", "feature_models", name);
        return Directory.Exists(folder) ? folder : null;
    }

    private static void Step(string text) => AnsiConsole.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(text)}");
}
