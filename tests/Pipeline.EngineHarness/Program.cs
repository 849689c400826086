using Azure.Storage.Blobs;
using Pipeline.Core.Contracts;
using Pipeline.EngineHarness;
using Pipeline.Host.Engine;

// Usage: Pipeline.EngineHarness --connection CS --engine-container C --toy-container T --instance ID --items N [--delay-ms D] [--concurrency K]
// Runs the engine (resuming what is unfinished), schedules the toy instance (idempotent), waits for it, exits 0 when it completed.
var opts = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Need(string key) => opts.TryGetValue(key, out var v) ? v : throw new ArgumentException($"--{key} is required");

var options = new DurableEngineOptions
{
    ConnectionString = Need("connection"),
    ContainerName = Need("engine-container"),
    StatusContainerName = Need("engine-container") + "-runs",
    DefaultActivityConcurrency = int.Parse(opts.GetValueOrDefault("concurrency", "4")),
    PollInterval = TimeSpan.FromMilliseconds(200),
    StatusInterval = TimeSpan.FromMilliseconds(200),
};
var toy = new BlobContainerClient(options.ConnectionString, Need("toy-container"));
await toy.CreateIfNotExistsAsync();
var registry = new OrchestrationRegistry()
    .Add(new ToyFanOut())
    .Add(new WriteItem(toy))
    .Add(new Summarize(toy));
await using var engine = new DurableEngine(new BlobCheckpointStore(options), registry, options);
await engine.StartAsync();
string instance = Need("instance");
bool created = await engine.Client.ScheduleNewAsync(nameof(ToyFanOut), instance,
    new ToyInput(int.Parse(Need("items")), int.Parse(opts.GetValueOrDefault("delay-ms", "0"))));
Console.WriteLine(created ? "scheduled" : "resuming");
var final = await engine.Client.WaitForCompletionAsync(instance);
Console.WriteLine($"final {final.State} {final.Error}");
await engine.StopAsync();
return final.State == RunState.Completed ? 0 : 1;
