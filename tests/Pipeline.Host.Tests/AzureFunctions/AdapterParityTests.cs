using System.Collections.Concurrent;
using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Engine;
using Pipeline.Host.Tests.Engine;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.AzureFunctions;

/// <summary>The same orchestrator on the local engine (Azurite) and through the Durable adapter (on the in-memory
/// Durable stand-in) gives the same result: activity retries, a failing activity, a retried sub-orchestration and an
/// event timeout all surface the same way.</summary>
[Collection(EngineCollection.Name)]
public sealed class AdapterParityTests(AzuriteFixture azurite)
{
    private sealed record ParityResult(int Activity, int Child, string Event, string Failure, IReadOnlyList<string> ChildIds);

    private static OrchestrationRegistry Registry(ConcurrentQueue<string> childIds)
    {
        var flaky = new ConcurrentDictionary<int, int>();
        return new OrchestrationRegistry()
            .AddActivity("Flaky", (input, _) =>
            {
                int n = flaky.AddOrUpdate(input.GetInt32(), 1, (_, c) => c + 1);
                if (n < 3) throw new IOException($"flaky attempt {n}");
                return Task.FromResult<object?>(input.GetInt32() + 1);
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
                int a = await ctx.CallActivityAsync<int>("Flaky", 5, new RetryPolicy(3, TimeSpan.FromMilliseconds(20)));
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

    [Fact]
    public async Task TheLocalEngineAndTheDurableAdapterAgree()
    {
        // local engine
        var localChildren = new ConcurrentQueue<string>();
        var options = azurite.NewOptions();
        await using var engine = new DurableEngine(new BlobCheckpointStore(options), Registry(localChildren), options);
        await engine.StartAsync();
        Assert.True(await engine.Client.ScheduleNewAsync("ParityToy", "parity-1", null));
        var final = await engine.WaitAsync("parity-1");
        Assert.Equal(RunState.Completed, final.State);
        var local = final.ReadOutput<JsonElement>();

        // Durable adapter
        var durableChildren = new ConcurrentQueue<string>();
        var registry = Registry(durableChildren);
        var output = await DurableRunContext.RunAsync(registry, "ParityToy", new FakeDurableContext(registry, "parity-1", null));
        var durable = JsonSerializer.SerializeToElement(output, OrchestrationJson.Options);

        Assert.Equal(local.GetRawText(), durable.GetRawText());
        Assert.Equal("""{"activity":6,"child":60,"event":"timeout","failure":"AlwaysFails|InvalidDataException|bad input|2"}""", durable.GetRawText());
        Assert.Equal(new[] { "parity-1-c", "parity-1-c-retry2" }, localChildren.Distinct());
        Assert.Equal(localChildren.Distinct(), durableChildren.Distinct());
    }
}
