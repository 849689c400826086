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
            var items = (await HarnessProcess.CommittedItemsAsync(client, $"{parent}-c{c}")).Distinct().Order();
            Assert.Equal(Enumerable.Range(c * ItemsPerChild, ItemsPerChild), items);
        }
        var parentHistory = await client.GetHistoryAsync(parent);
        Assert.Equal(Children, parentHistory.Where(h => h.Type == DurableTask.Core.History.EventType.SubOrchestrationInstanceCompleted)
            .Select(h => h.TaskScheduledId).Distinct().Count());
    }

    [Fact]
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
            azurite.Stop();
            output.WriteLine($"outage {outage}: storage down {down.TotalSeconds:F1} s");
            await Task.Delay(down);
            await azurite.StartAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await engine.Client.WaitForCompletionAsync(parent, cts.Token);
        await AssertRunCompleteAsync(engine.Client, toy, parent, seed);
    }

    [Fact]
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
            Assert.True(await last.WaitForExitAsync(TimeSpan.FromMinutes(4)), $"the restarted worker did not finish the run within 4 minutes (seed {seed}):\n{last.Tail()}");
        }
        await AssertRunCompleteAsync(observer.Client, toy, parent, seed);
    }
}
