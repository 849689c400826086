using System.Collections.Concurrent;
using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Orchestration;
using Pipeline.Host.Tests.TaskHub;

namespace Pipeline.Host.Tests.AzureFunctions;

/// <summary>The same orchestrator on the local engine (the Durable Task Framework on Azurite) and through the Durable adapter (on the in-memory
/// Durable stand-in) gives the same result: activity retries, a failing activity, a retried sub-orchestration and an
/// event timeout all surface the same way.</summary>
[Collection(EngineCollection.Name)]
public sealed class AdapterParityTests(EngineFixture azurite)
{
    [Fact]
    public async Task TheLocalEngineAndTheDurableAdapterAgree()
    {
        // local engine: the Durable Task Framework on Azurite (the fixture's worker runs ParityToy)
        var engine = azurite.Engine;
        Assert.True(await engine.Client.ScheduleNewAsync("ParityToy", "parity-1", null));
        var final = await engine.WaitAsync("parity-1");
        Assert.Equal(RunState.Completed, final.State);
        var local = final.ReadOutput<JsonElement>();
        var localChildren = azurite.Orchestrations.ParityChildren.Where(c => c.StartsWith("parity-1-", StringComparison.Ordinal)).Distinct().ToList();

        // Durable adapter
        var durableChildren = new ConcurrentQueue<string>();
        var registry = EngineTestOrchestrations.AddParity(new OrchestrationRegistry(), durableChildren);
        var output = await DurableRunContext.RunAsync(registry, "ParityToy", new FakeDurableContext(registry, "parity-1", null));
        var durable = JsonSerializer.SerializeToElement(output, OrchestrationJson.Options);

        Assert.Equal(local.GetRawText(), durable.GetRawText());
        Assert.Equal("""{"activity":6,"child":60,"event":"timeout","failure":"AlwaysFails|InvalidDataException|bad input|2"}""", durable.GetRawText());
        Assert.Equal(new[] { "parity-1-c", "parity-1-c-retry2" }, localChildren);
        Assert.Equal(localChildren, durableChildren.Distinct());
    }
}
