using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using Pipeline.Core.Orchestration;
using Pipeline.EngineHarness;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>The orchestrations and activities of the engine tests, in one registry for the shared worker.</summary>
public sealed class EngineTestOrchestrations
{
    /// <summary>How many times each "Counted" activity input ran (per test key).</summary>
    public ConcurrentDictionary<string, int> Attempts { get; } = new(StringComparer.Ordinal);

    /// <summary>Instance ids the parity child ran under, on the framework.</summary>
    public ConcurrentQueue<string> ParityChildren { get; } = new();

    /// <summary>Set while the nondeterministic orchestrator's first execution runs; replays then take another path.</summary>
    private static readonly ConcurrentDictionary<string, bool> NondeterministicSeen = new(StringComparer.Ordinal);

    /// <summary>Gates the "Gate" activity waits on (per key), opened by the tests.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new(StringComparer.Ordinal);

    public TaskCompletionSource Gate(string key) => Gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public OrchestrationRegistry Registry { get; }

    public EngineTestOrchestrations(BlobContainerClient toy)
    {
        Registry = AddParity(new OrchestrationRegistry(), ParityChildren)
            .Add(new ToyFanOut())
            .Add(new WriteItem(toy))
            .Add(new Summarize(toy))
            .AddActivity("Counted", (input, _) =>
            {
                string key = input.GetProperty("key").GetString()!;
                int n = Attempts.AddOrUpdate(key, 1, (_, c) => c + 1);
                if (input.GetProperty("fail").GetBoolean()) throw new InvalidOperationException($"always fails ({key}, attempt {n})");
                return Task.FromResult<object?>(n);
            })
            .AddActivity("Slow", async (input, cancellationToken) =>
            {
                await Task.Delay(input.GetInt32(), cancellationToken);
                return null;
            })
            .AddActivity("Gate", async (input, cancellationToken) =>
            {
                await Gate(input.GetString()!).Task.WaitAsync(cancellationToken);
                return null;
            })
            .AddOrchestrator("AlwaysFailing", async ctx =>
                await ctx.CallActivityAsync<int>("Counted", new { key = ctx.InstanceId, fail = true }, new RetryPolicy(3, TimeSpan.FromMilliseconds(50))))
            .AddOrchestrator("EventAfterWork", async ctx =>
            {
                // an activity the test holds until it has raised the events: they arrive before either wait starts
                await ctx.CallActivityAsync("Gate", ctx.InstanceId);
                var first = await ctx.WaitForExternalEventAsync<string>("go");
                var second = await ctx.WaitForExternalEventAsync<string>("go", TimeSpan.FromMinutes(5));
                return $"{first},{second}";
            })
            .AddOrchestrator("WaitForever", async ctx =>
            {
                ctx.SetCustomStatus(new { stage = "waiting" });
                var child = ctx.CallSubOrchestratorAsync<int>("WaitForeverChild", ctx.InstanceId + "-child", null);
                await ctx.WaitForExternalEventAsync<int>("never");
                return await child;
            })
            .AddOrchestrator("WaitForeverChild", async ctx => await ctx.WaitForExternalEventAsync<int>("never"))
            .AddOrchestrator("Nondeterministic", async ctx =>
            {
                // the first execution calls one activity; every replay calls another in its place: the code changed
                // under a running instance, which the framework must report instead of guessing
                bool replay = !NondeterministicSeen.TryAdd(ctx.InstanceId, true);
                await ctx.CallActivityAsync(replay ? "Slow" : "Counted", replay ? 10 : new { key = ctx.InstanceId, fail = false });
                await ctx.CallActivityAsync("Slow", 10);
                return "done";
            })
            .AddOrchestrator("GuidsAndTime", async ctx =>
            {
                var before = (ctx.NewGuid(), ctx.CurrentUtcDateTime);
                await ctx.CreateTimer(TimeSpan.FromMilliseconds(200));
                await ctx.CallActivityAsync("Slow", 10);
                return new { guid = before.Item1, time = before.CurrentUtcDateTime, guid2 = ctx.NewGuid() };
            });
    }

    /// <summary>The orchestrator of the adapter parity test, for the framework and for the Durable stand-in.</summary>
    public static OrchestrationRegistry AddParity(OrchestrationRegistry registry, ConcurrentQueue<string> childIds)
    {
        var flaky = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        return registry
            .AddActivity("Flaky", (input, _) =>
            {
                int n = flaky.AddOrUpdate(input.GetProperty("key").GetString()!, 1, (_, c) => c + 1);
                if (n < 3) throw new IOException($"flaky attempt {n}");
                return Task.FromResult<object?>(input.GetProperty("value").GetInt32() + 1);
            })
            .AddActivity("AlwaysFails", (_, _) => throw new InvalidDataException("bad input"))
            .AddActivity("Times10", (input, _) => Task.FromResult<object?>(input.GetInt32() * 10))
            .AddOrchestrator("ParityChild", async ctx =>
            {
                childIds.Enqueue(ctx.InstanceId);
                if (!ctx.InstanceId.EndsWith("-retry2", StringComparison.Ordinal))
                    throw new InvalidOperationException("first attempt fails");
                return await ctx.CallActivityAsync<int>("Times10", ctx.GetInput<int>());
            })
            .AddOrchestrator("ParityToy", async ctx =>
            {
                int a = await ctx.CallActivityAsync<int>("Flaky", new { key = ctx.InstanceId, value = 5 }, new RetryPolicy(3, TimeSpan.FromMilliseconds(20)));
                int child = await ctx.CallSubOrchestratorAsync<int>("ParityChild", ctx.InstanceId + "-c", a, new RetryPolicy(2, TimeSpan.FromMilliseconds(20)));
                string ev;
                try { await ctx.WaitForExternalEventAsync<int>("never", TimeSpan.FromMilliseconds(300)); ev = "received"; }
                catch (TimeoutException) { ev = "timeout"; }
                string failure;
                try { await ctx.CallActivityAsync<int>("AlwaysFails", 0, new RetryPolicy(2, TimeSpan.FromMilliseconds(10))); failure = "none"; }
                catch (ActivityFailedException e) { failure = $"{e.ActivityName}|{e.ErrorType}|{e.ErrorMessage}|{e.Attempts}"; }
                ctx.SetCustomStatus(new { stage = "done" });
                return new { activity = a, child, @event = ev, failure };
            });
    }
}
