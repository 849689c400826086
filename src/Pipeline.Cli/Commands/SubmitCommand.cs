using System.CommandLine;
using Pipeline.Core.Contracts;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline submit</c>: validates an augmentation request (from a JSON file or from flags) and puts it on
/// the augment-requests queue. Prints the run id on stdout (alone, for scripts).</summary>
public sealed class SubmitCommand : ICommandGroup
{
    public Command Build()
    {
        var cmd = new Command("submit", "Validate an augmentation request and enqueue it on augment-requests; prints the run id.");
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Request JSON (schemas/augmentation-request.schema.json). Other flags are not allowed with it, except --run-id, --wait." };
        var dataset = new Option<string?>("--dataset") { Description = "Dataset name under datasets/." };
        var mode = new Option<TaskMode?>("--mode") { Description = "insertion, replacement or reinsertion." };
        var count = new Option<int?>("--count") { Description = "Number of items (classes drawn from the annotations)." };
        var targets = new Option<string[]>("--target") { Description = "Per-class count CLASS=N (repeatable), instead of --count.", AllowMultipleArgumentsPerToken = false };
        var model = new Option<string?>("--model") { Description = "Model package: models/{name}/{version} or a local folder." };
        var scheduler = new Option<SchedulerKind?>("--scheduler") { Description = "ddim, plms, dpmpp2m, euler or ddpm (default: the model's)." };
        var steps = new Option<int?>("--steps") { Description = "Sampling steps (default: the model's)." };
        var guidance = new Option<double?>("--guidance") { Description = "Classifier-free guidance scale (default: the model's)." };
        var eta = new Option<double?>("--eta") { Description = "DDIM eta (default: the model's)." };
        var seed = new Option<long>("--seed") { Description = "Run seed.", DefaultValueFactory = _ => 0 };
        var shard = new Option<int>("--shard-size") { Description = "Items per shard.", DefaultValueFactory = _ => 16 };
        var format = new Option<OutputFormat>("--format") { Description = "Output format: same, dicom or png.", DefaultValueFactory = _ => OutputFormat.Same };
        var metrics = new Option<MetricKind[]>("--metric") { Description = "Metric to compute (repeatable): ssim, psnr, fid, kid, lpips, embeddingSimilarity (MS-SSIM needs larger images than the model patch: `pipeline metrics` computes it for image pairs)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Plan and estimate only: writes plan.json, times a few denoiser calls of the model once on this machine and writes estimate.json (items, denoiser calls, expected time); nothing is generated." };
        var runId = new Option<string?>("--run-id") { Description = "Run id (default: a new run-yyyyMMdd-HHmmss-xxxxxx)." };
        var wait = new Option<bool>("--wait") { Description = "Follow the run's status until it ends (like `status --watch`)." };
        var flags = new Option[] { dataset, mode, count, targets, model, scheduler, steps, guidance, eta, seed, shard, format, metrics, dryRun };
        cmd.Options.Add(file);
        foreach (var o in flags) cmd.Options.Add(o);
        cmd.Options.Add(runId);
        cmd.Options.Add(wait);

        cmd.SetAction(async (parse, ct) =>
        {
            AugmentationRequest? request;
            var f = parse.GetValue(file);
            if (f is not null)
            {
                var given = flags.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                if (given.Count > 0)
                {
                    Console.Error.WriteLine($"--file cannot be combined with {string.Join(", ", given)}; edit the file instead.");
                    return ExitCodes.Usage;
                }
                if (!f.Exists) { Console.Error.WriteLine($"{f.FullName}: no such file"); return ExitCodes.NotFound; }
                var parsed = AugmentationRequestValidator.Parse(await File.ReadAllBytesAsync(f.FullName, ct));
                if (!parsed.IsValid) return PrintProblems(f.Name, parsed.Problems);
                request = parsed.Request!;
            }
            else
            {
                var t = new AugmentationTask { Mode = parse.GetValue(mode) ?? TaskMode.Insertion, Count = parse.GetValue(count) };
                var targetArgs = parse.GetValue(targets) ?? [];
                if (targetArgs.Length > 0)
                {
                    var dict = new Dictionary<string, int>(StringComparer.Ordinal);
                    foreach (var a in targetArgs)
                    {
                        int eq = a.LastIndexOf('=');
                        if (eq <= 0 || !int.TryParse(a[(eq + 1)..], out int n))
                        {
                            Console.Error.WriteLine($"--target '{a}': expected CLASS=N, e.g. --target Mass=50");
                            return ExitCodes.Usage;
                        }
                        dict[a[..eq]] = n;
                    }
                    t = t with { Targets = dict };
                }
                var sampler = new SamplerSettings
                {
                    Scheduler = parse.GetValue(scheduler), Steps = parse.GetValue(steps), Guidance = parse.GetValue(guidance), Eta = parse.GetValue(eta),
                };
                var m = parse.GetValue(metrics);
                request = new AugmentationRequest
                {
                    Dataset = parse.GetValue(dataset) ?? "",
                    Model = parse.GetValue(model) ?? "",
                    Tasks = [t],
                    Sampler = sampler is { Scheduler: null, Steps: null, Guidance: null, Eta: null } ? null : sampler,
                    Seed = parse.GetValue(seed),
                    ShardSize = parse.GetValue(shard),
                    Output = new OutputOptions { Format = parse.GetValue(format) },
                    Metrics = m is { Length: > 0 } ? m : null,
                    DryRun = parse.GetValue(dryRun),
                };
            }

            request = request with { RunId = parse.GetValue(runId) ?? request.RunId ?? ResourceNames.NewRunId(DateTimeOffset.UtcNow) };
            var checkedRequest = AugmentationRequestValidator.Validate(request);
            if (!checkedRequest.IsValid) return PrintProblems("request", checkedRequest.Problems);

            var storage = await CliStorage.ConnectAsync(ct);
            if (storage is null) return ExitCodes.Unavailable;
            try
            {
                await QueueMessages.SendAsync(storage.Queue(StorageLayout.AugmentRequestsQueue), PipelineJson.SerializeToUtf8Bytes(request), ct);
            }
            catch (Exception e) when (e is Azure.RequestFailedException or AggregateException or HttpRequestException)
            {
                return CliStorage.Report(e);
            }
            Console.Error.WriteLine($"Submitted run {request.RunId} ({request.TotalItems} items from dataset '{request.Dataset}'); follow it with: ./pipeline status {request.RunId} --watch");
            Console.WriteLine(request.RunId);
            return parse.GetValue(wait) ? await StatusCommand.FollowAsync(storage, request.RunId!, TimeSpan.FromMinutes(60 * 24), ct) : ExitCodes.Ok;
        });
        return cmd;
    }

    private static int PrintProblems(string what, IReadOnlyList<ValidationProblem> problems)
    {
        Console.Error.WriteLine($"{what} is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):");
        foreach (var p in problems) Console.Error.WriteLine($"  {p}");
        return ExitCodes.Usage;
    }
}
