using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contracts;
using Pipeline.EngineHarness;
using Pipeline.Host.Orchestration;
using Pipeline.Host.TaskHub;

// Usage: Pipeline.EngineHarness --connection CS --hub H --toy-container T --instance ID --items N [--delay-ms D] [--concurrency K] [--children N] [--log-level Warning]
// Runs a Durable Task worker on task hub H (resuming what is unfinished), schedules the toy instance (idempotent),
// waits for it, exits 0 when it completed. Prints "scheduled" or "resuming" once the worker runs.
var opts = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Need(string key) => opts.TryGetValue(key, out var v) ? v : throw new ArgumentException($"--{key} is required");

var options = new TaskHubOptions
{
    ConnectionString = Need("connection"),
    TaskHubName = Need("hub"),
    StatusContainerName = Need("hub").ToLowerInvariant() + "-runs",
    MaxConcurrentActivities = int.Parse(opts.GetValueOrDefault("concurrency", "4")),
    ClientPollInterval = TimeSpan.FromMilliseconds(200),
};
if (opts.TryGetValue("extended-sessions", out var es)) options.ExtendedSessionsEnabled = bool.Parse(es);
if (opts.TryGetValue("table-partitions", out var tp)) options.UseTablePartitionManagement = bool.Parse(tp);
var toy = new BlobContainerClient(options.ConnectionString, Need("toy-container"));
await toy.CreateIfNotExistsAsync();
var registry = new OrchestrationRegistry()
    .Add(new ToyFanOut())
    .Add(new ToyParent())
    .Add(new WriteItem(toy))
    .Add(new Summarize(toy));
// the framework's warnings and errors (lease changes, abandoned steps) go to stderr, which the tests print on failure
using var loggerFactory = LoggerFactory.Create(b => b
    .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
    .SetMinimumLevel(Enum.Parse<LogLevel>(opts.GetValueOrDefault("log-level", "Warning"))));
await using var engine = new TaskHubEngine(options, loggerFactory);
await engine.StartWorkerAsync(registry);
string instance = Need("instance");
int items = int.Parse(Need("items")), delayMs = int.Parse(opts.GetValueOrDefault("delay-ms", "0"));
// --children N: a ToyParent running N ToyFanOut children of --items items each; otherwise one ToyFanOut
bool created = opts.TryGetValue("children", out var children)
    ? await engine.Client.ScheduleNewAsync(nameof(ToyParent), instance, new ToyParentInput(int.Parse(children), items, delayMs))
    : await engine.Client.ScheduleNewAsync(nameof(ToyFanOut), instance, new ToyInput(items, delayMs));
Console.WriteLine(created ? "scheduled" : "resuming");
var final = await engine.Client.WaitForCompletionAsync(instance);
Console.WriteLine($"final {final.State} {final.Error}");
await engine.StopWorkerAsync();
return final.State == RunState.Completed ? 0 : 1;
