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
/// PIPELINE_FAULT_SEED to replay the same points. Sized for CI (three outages of 2-6 s, about 2-3 minutes a test on
/// a 2-core machine); PIPELINE_FAULT_OUTAGES and PIPELINE_FAULT_MAX_DOWN_S make a longer run (outages longer than
/// the 15 s partition lease, so leases expire and are taken again).
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class StorageFaultTests(ITestOutputHelper output)
{
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

    /// <summary>Outages per run: 3 by default (PIPELINE_FAULT_OUTAGES for a longer run).</summary>
    private static int Outages => int.TryParse(Environment.GetEnvironmentVariable("PIPELINE_FAULT_OUTAGES"), out int n) && n > 0 ? n : 3;

    private sealed class RestartableAzurite(string folder) : IDisposable
    {
        public AzuriteServer Server { get; private set; } = null!;

        public async Task StartAsync()
        {
            Server = await AzuriteServer.StartAsync(Server is null
                ? new AzuriteOptions { Location = folder }
                : new AzuriteOptions { Location = folder, BlobPort = Server.BlobPort, QueuePort = Server.QueuePort, TablePort = Server.TablePort });
        }

        /// <summary>Stops Azurite gracefully (it saves its databases; data folder and ports kept), keeps it down for
        /// <paramref name="down"/> (running <paramref name="during"/> halfway) and starts it again. Azurite killed
        /// instead of stopping would lose writes it had acknowledged, which no engine survives: that fails the test.</summary>
        public async Task<string> OutageAsync(TimeSpan down, Action? during = null)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.True(Server.Stop(TimeSpan.FromSeconds(60)), "Azurite did not stop within 60 s of SIGTERM and was killed (its last acknowledged writes may be lost)");
            double stopped = clock.Elapsed.TotalSeconds;
            if (during is null) await Task.Delay(down);
            else { await Task.Delay(down / 2); during(); await Task.Delay(down / 2); }
            await StartAsync();
            return $"storage stopped in {stopped:F1} s, down {down.TotalSeconds:F1} s, up again after {clock.Elapsed.TotalSeconds:F1} s";
        }

        public void Dispose()
        {
            Server?.Dispose();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
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

    /// <summary>One fault-injection run: its seed and random points, an Azurite with a data folder that can be stopped
    /// and restarted on the same ports, the toy container.</summary>
    private sealed class FaultRun : IDisposable
    {
        public int Seed { get; }
        public Random Random { get; }
        public RestartableAzurite Azurite { get; } = new(Path.Combine(Path.GetTempPath(), $"fault-{Guid.NewGuid():N}"));
        public BlobContainerClient Toy { get; private set; } = null!;
        public string ConnectionString => Azurite.Server.ConnectionString;

        private FaultRun(int seed) { Seed = seed; Random = new Random(seed); }

        public static async Task<FaultRun> StartAsync(ITestOutputHelper output)
        {
            int seed = int.TryParse(Environment.GetEnvironmentVariable("PIPELINE_FAULT_SEED"), out int s) ? s : Environment.TickCount;
            output.WriteLine($"seed {seed} (replay: PIPELINE_FAULT_SEED={seed})");
            var run = new FaultRun(seed);
            await run.Azurite.StartAsync();
            run.Toy = new BlobContainerClient(run.ConnectionString, "toy");
            await run.Toy.CreateIfNotExistsAsync();
            return run;
        }

        /// <summary>How long storage stays down: 2-6 s by default (PIPELINE_FAULT_MAX_DOWN_S raises the upper end).</summary>
        public TimeSpan NextDowntime()
        {
            int maxSeconds = int.TryParse(Environment.GetEnvironmentVariable("PIPELINE_FAULT_MAX_DOWN_S"), out int m) && m > 2 ? m : 6;
            return TimeSpan.FromMilliseconds(Random.Next(2000, maxSeconds * 1000));
        }

        public void Dispose() => Azurite.Dispose();
    }

    [Fact]
    public async Task A_run_survives_storage_outages_at_random_points_while_its_worker_keeps_running()
    {
        using var run = await FaultRun.StartAsync(output);
        using var log = new RecentLog();
        using var loggerFactory = log.CreateFactory();
        var options = new TaskHubOptions { ConnectionString = run.ConnectionString, TaskHubName = "faults", StatusContainerName = "faults-runs", ClientPollInterval = TimeSpan.FromMilliseconds(200) };
        var registry = new Pipeline.Host.Orchestration.OrchestrationRegistry().Add(new ToyFanOut()).Add(new ToyParent()).Add(new WriteItem(run.Toy)).Add(new Summarize(run.Toy));
        await using var engine = new TaskHubEngine(options, loggerFactory);
        await engine.StartWorkerAsync(registry);
        const string parent = "faulty";
        Assert.True(await engine.Client.ScheduleNewAsync(nameof(ToyParent), parent, new ToyParentInput(Children, ItemsPerChild, 50)));

        for (int outage = 1; outage <= Outages; outage++)
        {
            await WaitForRandomPointAsync(run.Random, run.Toy, engine.Client, parent, () => false);
            if ((await engine.Client.GetInstanceAsync(parent))?.IsTerminal == true) break;
            var down = run.NextDowntime();
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} outage {outage}: {await run.Azurite.OutageAsync(down)}");
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try { await engine.Client.WaitForCompletionAsync(parent, cts.Token); }
        catch (OperationCanceledException)
        {
            await DumpAsync(engine.Client, parent);
            foreach (var line in log.Lines) output.WriteLine(line);
            Assert.Fail($"the run did not finish within 4 minutes of the last outage (seed {run.Seed})");
        }
        await AssertRunCompleteAsync(engine.Client, run.Toy, parent, run.Seed);
    }

    [Fact]
    public async Task A_run_survives_storage_outages_and_worker_kills_at_random_points()
    {
        using var run = await FaultRun.StartAsync(output);
        await using var observer = new TaskHubEngine(new TaskHubOptions { ConnectionString = run.ConnectionString, TaskHubName = "faultkills", StatusContainerName = "faultkills-runs" });
        const string parent = "faulty-killed";
        var workerLogs = new List<string>();

        for (int round = 1; round <= Outages; round++)
        {
            using var worker = HarnessProcess.Start(run.ConnectionString, "faultkills", run.Toy, parent, ItemsPerChild, delayMs: 50, children: Children);
            await worker.Up.WaitAsync(TimeSpan.FromSeconds(90));
            await WaitForRandomPointAsync(run.Random, run.Toy, observer.Client, parent, () => worker.HasExited);
            if (worker.HasExited) break;
            // the worker dies before, during or after the outage
            int when = run.Random.Next(3);
            var down = run.NextDowntime();
            if (when == 0) worker.Kill();
            string outage = await run.Azurite.OutageAsync(down, during: when == 1 ? worker.Kill : null);
            if (when == 2) { await Task.Delay(run.Random.Next(0, 2000)); worker.Kill(); }
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} round {round}: {outage}, worker killed {(when == 0 ? "before" : when == 1 ? "during" : "after")} the outage");
            workerLogs.Add($"--- worker of round {round} (pid {worker.ProcessId}) ---\n{worker.Tail(60)}");
        }

        using (var last = HarnessProcess.Start(run.ConnectionString, "faultkills", run.Toy, parent, ItemsPerChild, delayMs: 50, children: Children))
        {
            if (!await last.WaitForExitAsync(TimeSpan.FromMinutes(4)))
            {
                await DumpAsync(observer.Client, parent);
                workerLogs.ForEach(output.WriteLine);
                Assert.Fail($"the restarted worker did not finish the run within 4 minutes (seed {run.Seed}):\n{last.Tail(60)}");
            }
            workerLogs.Add($"--- last worker (pid {last.ProcessId}) ---\n{last.Tail(60)}");
        }
        try { await AssertRunCompleteAsync(observer.Client, run.Toy, parent, run.Seed); }
        catch { workerLogs.ForEach(output.WriteLine); throw; }
    }
}
