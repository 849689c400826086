using Azure.Storage.Blobs;
using Pipeline.Core.Contracts;
using Pipeline.EngineHarness;
using Pipeline.Host.TaskHub;
using Pipeline.Storage.Azurite;
using Xunit.Abstractions;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>
/// Fault injection: Azurite is stopped (gracefully, data kept) and restarted on the same ports and data folder at random
/// points of a run, while the worker keeps running, and again with the worker killed as well. The run is a parent
/// running sub-orchestrations one after another, so outages also land between a child's completion and the parent's
/// next step (the case that hung the home-made engine). Each test prints its seed; pass it in
/// PIPELINE_FAULT_SEED to replay the same points.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class StorageFaultTests(ITestOutputHelper output)
{
    /// <summary>
    /// Runs only with PIPELINE_FAULT_TESTS=1 (skipped, and reported as skipped, otherwise): on the loaded 2-core
    /// machine these tests took 3-10 minutes a pair and failed in 2 of 8 seeded pairs (a run still waiting 4 minutes
    /// after the last outage; a child whose history read back without 4 of its 20 results although the run
    /// completed), not yet diagnosed: see docs/engine.md, "Open findings". They stay out of CI until they pass reliably.
    /// </summary>
    private sealed class FaultFactAttribute : FactAttribute
    {
        public FaultFactAttribute()
        {
            if (Environment.GetEnvironmentVariable("PIPELINE_FAULT_TESTS") != "1")
                Skip = "fault injection runs with PIPELINE_FAULT_TESTS=1 (minutes; not yet reliable in CI, see docs/engine.md)";
        }
    }

    /// <summary>On a failure: every instance of the run, its state and the tail of its history.</summary>
    private async Task DumpAsync(TaskHubOrchestrationClient client, string parent)
    {
        foreach (string id in new[] { parent }.Concat(Enumerable.Range(0, Children).Select(c => $"{parent}-c{c}")))
        {
            try
            {
                var state = await client.GetInstanceAsync(id);
                var history = await client.GetHistoryAsync(id);
                output.WriteLine($"{id}: {state?.State} ({history.Count} history events); last: " +
                                 string.Join(", ", history.TakeLast(6).Select(h => $"{h.Type}#{h.EventId}/{h.TaskScheduledId}")));
            }
            catch (Exception e) { output.WriteLine($"{id}: could not read ({e.Message})"); }
        }
    }

    private const int Children = 3, ItemsPerChild = 20;

    private sealed class RestartableAzurite(string folder) : IDisposable
    {
        public AzuriteServer Server { get; private set; } = null!;

        public async Task StartAsync()
        {
            Server = await AzuriteServer.StartAsync(Server is null
                ? new AzuriteOptions { Location = folder }
                : new AzuriteOptions { Location = folder, BlobPort = Server.BlobPort, QueuePort = Server.QueuePort, TablePort = Server.TablePort });
        }

        public void Stop() => Server.Stop(TimeSpan.FromSeconds(10)); // graceful: Azurite writes its data folder

        public void Dispose()
        {
            Server?.Dispose();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static int Seed()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PIPELINE_FAULT_SEED"), out int s) ? s : Environment.TickCount;
        return seed;
    }

    /// <summary>Counts blobs, or -1 while storage is down.</summary>
    private static async Task<int> TryCountAsync(BlobContainerClient container, string prefix)
    {
        try { return await container.CountAsync(prefix); }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or AggregateException or IOException) { return -1; }
    }

    /// <summary>Waits for a random point: after 1-15 more activity executions, or right after the next child completed.</summary>
    private static async Task WaitForRandomPointAsync(Random random, BlobContainerClient toy, TaskHubOrchestrationClient client, string parent, Func<bool> stop)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        if (random.Next(3) == 0)
        {
            // between a child's completion and the parent's next step
            int done = 0;
            for (int c = 0; c < Children; c++)
                if ((await client.GetInstanceAsync($"{parent}-c{c}"))?.State == RunState.Completed) done++;
            if (done < Children)
            {
                string next = $"{parent}-c{done}";
                while (!stop() && DateTime.UtcNow < deadline)
                {
                    try { if ((await client.GetInstanceAsync(next))?.State == RunState.Completed) return; }
                    catch (Exception e) when (e is not OperationCanceledException) { }
                    await Task.Delay(20);
                }
                return;
            }
        }
        int target = Math.Max(0, await TryCountAsync(toy, "markers/")) + random.Next(1, 16);
        while (!stop() && DateTime.UtcNow < deadline && await TryCountAsync(toy, "markers/") < target) await Task.Delay(20);
    }

    private async Task AssertRunCompleteAsync(TaskHubOrchestrationClient client, BlobContainerClient toy, string parent, int seed)
    {
        var final = await client.GetInstanceAsync(parent);
        Assert.True(final?.State == RunState.Completed, $"the run ended {final?.State}: {final?.Error} (seed {seed})");
        Assert.Equal(Children * ItemsPerChild, final!.ReadOutput<int>());
        // outputs identical to an uninterrupted run: every item once, with the content the activity writes
        var names = new List<string>();
        await foreach (var b in toy.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "out/", default)) names.Add(b.Name);
        Assert.Equal(Enumerable.Range(0, Children * ItemsPerChild).Select(WriteItem.OutputBlob), names.Order());
        foreach (var name in names)
            Assert.Equal($"item {int.Parse(name[4..8])}", (await toy.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToString());
        // one result per item: each child's history has every scheduled call answered, and the parent one result per child
        for (int c = 0; c < Children; c++)
        {
            var items = (await HarnessProcess.CommittedItemsAsync(client, $"{parent}-c{c}")).Distinct().Order().ToList();
            if (!items.SequenceEqual(Enumerable.Range(c * ItemsPerChild, ItemsPerChild)))
            {
                // the history as read, for the diagnosis
                foreach (var h in await client.GetHistoryAsync($"{parent}-c{c}"))
                    output.WriteLine($"{parent}-c{c}: {h.Type} id {h.EventId} scheduled {h.TaskScheduledId} {h.Name} {h.Input} {h.Result}");
            }
            Assert.Equal(Enumerable.Range(c * ItemsPerChild, ItemsPerChild), items);
        }
        var parentHistory = await client.GetHistoryAsync(parent);
        Assert.Equal(Children, parentHistory.Where(h => h.Type == DurableTask.Core.History.EventType.SubOrchestrationInstanceCompleted)
            .Select(h => h.TaskScheduledId).Distinct().Count());
    }

    [FaultFact]
    public async Task A_run_survives_storage_outages_at_random_points_while_its_worker_keeps_running()
    {
        int seed = Seed();
        var random = new Random(seed);
        output.WriteLine($"seed {seed} (replay: PIPELINE_FAULT_SEED={seed})");
        using var azurite = new RestartableAzurite(Path.Combine(Path.GetTempPath(), $"fault-{Guid.NewGuid():N}"));
        await azurite.StartAsync();
        string cs = azurite.Server.ConnectionString;
        var toy = new BlobContainerClient(cs, "toy");
        await toy.CreateIfNotExistsAsync();
        var options = new TaskHubOptions { ConnectionString = cs, TaskHubName = "faults", StatusContainerName = "faults-runs", ClientPollInterval = TimeSpan.FromMilliseconds(200) };
        var registry = new Pipeline.Host.Orchestration.OrchestrationRegistry().Add(new ToyFanOut()).Add(new ToyParent()).Add(new WriteItem(toy)).Add(new Summarize(toy));
        await using var engine = new TaskHubEngine(options);
        await engine.StartWorkerAsync(registry);
        const string parent = "faulty";
        Assert.True(await engine.Client.ScheduleNewAsync(nameof(ToyParent), parent, new ToyParentInput(Children, ItemsPerChild, 50)));

        bool finished = false;
        for (int outage = 1; outage <= 3 && !finished; outage++)
        {
            await WaitForRandomPointAsync(random, toy, engine.Client, parent, () => false);
            finished = (await engine.Client.GetInstanceAsync(parent))?.IsTerminal == true;
            if (finished) break;
            var down = TimeSpan.FromMilliseconds(random.Next(2000, 6000));
            var outageClock = System.Diagnostics.Stopwatch.StartNew();
            azurite.Stop();
            await Task.Delay(down);
            await azurite.StartAsync();
            output.WriteLine($"outage {outage}: storage down {down.TotalSeconds:F1} s + restart = {outageClock.Elapsed.TotalSeconds:F1} s");
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try { await engine.Client.WaitForCompletionAsync(parent, cts.Token); }
        catch (OperationCanceledException)
        {
            await DumpAsync(engine.Client, parent);
            Assert.Fail($"the run did not finish within 4 minutes of the last outage (seed {seed})");
        }
        await AssertRunCompleteAsync(engine.Client, toy, parent, seed);
    }

    [FaultFact]
    public async Task A_run_survives_storage_outages_and_worker_kills_at_random_points()
    {
        int seed = Seed();
        var random = new Random(seed);
        output.WriteLine($"seed {seed} (replay: PIPELINE_FAULT_SEED={seed})");
        using var azurite = new RestartableAzurite(Path.Combine(Path.GetTempPath(), $"fault-{Guid.NewGuid():N}"));
        await azurite.StartAsync();
        string cs = azurite.Server.ConnectionString;
        var toy = new BlobContainerClient(cs, "toy");
        await toy.CreateIfNotExistsAsync();
        await using var observer = new TaskHubEngine(new TaskHubOptions { ConnectionString = cs, TaskHubName = "faultkills", StatusContainerName = "faultkills-runs" });
        const string parent = "faulty-killed";

        for (int round = 1; round <= 3; round++)
        {
            using var worker = HarnessProcess.Start(cs, "faultkills", toy, parent, ItemsPerChild, delayMs: 50, children: Children);
            await worker.Up.WaitAsync(TimeSpan.FromSeconds(90));
            await WaitForRandomPointAsync(random, toy, observer.Client, parent, () => worker.HasExited);
            if (worker.HasExited) break;
            // the worker dies before, during or after the outage
            int when = random.Next(3);
            if (when == 0) worker.Kill();
            azurite.Stop();
            var down = TimeSpan.FromMilliseconds(random.Next(2000, 6000));
            if (when == 1) { await Task.Delay(down / 2); worker.Kill(); await Task.Delay(down / 2); }
            else await Task.Delay(down);
            await azurite.StartAsync();
            if (when == 2) { await Task.Delay(random.Next(0, 2000)); worker.Kill(); }
            output.WriteLine($"round {round}: storage down {down.TotalSeconds:F1} s, worker killed {(when == 0 ? "before" : when == 1 ? "during" : "after")} the outage");
        }

        using (var last = HarnessProcess.Start(cs, "faultkills", toy, parent, ItemsPerChild, delayMs: 50, children: Children))
        {
            if (!await last.WaitForExitAsync(TimeSpan.FromMinutes(4)))
            {
                await DumpAsync(observer.Client, parent);
                Assert.Fail($"the restarted worker did not finish the run within 4 minutes (seed {seed}):\n{last.Tail()}");
            }
        }
        await AssertRunCompleteAsync(observer.Client, toy, parent, seed);
    }
}
