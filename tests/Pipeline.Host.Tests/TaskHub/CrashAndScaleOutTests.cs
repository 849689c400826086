using Pipeline.Core.Contracts;
using Pipeline.EngineHarness;
using Pipeline.Host.TaskHub;
using Xunit.Abstractions;

namespace Pipeline.Host.Tests.TaskHub;

/// <summary>
/// The engine in child processes (tests/Pipeline.EngineHarness) on one Azurite: SIGKILLed at random points and
/// restarted; two processes sharing one run, one of them killed; a process joining mid-run. Each test has its own
/// task hub. The seed of the random points is printed so a failure can be replayed.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class CrashAndScaleOutTests(EngineFixture azurite, ITestOutputHelper output)
{
    private const int Items = 200;

    [Fact]
    public async Task A_worker_killed_at_random_points_resumes_and_never_reruns_a_committed_activity()
    {
        var options = azurite.NewOptions();
        var toy = azurite.NewContainer();
        await using var observer = new TaskHubEngine(options); // client only: reads state and history
        const string instance = "crash-run";
        int seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");

        // item -> how many times it had run when its result was first seen committed in the history
        var runsWhenCommitted = new Dictionary<int, int>();
        int killsMidRun = 0;
        for (int round = 0; round < 3; round++)
        {
            using var p = HarnessProcess.Start(azurite.ConnectionString, options.TaskHubName!, toy, instance, Items, delayMs: 40);
            await Task.WhenAny(p.Up, Task.Delay(TimeSpan.FromSeconds(60)));
            // a random point mid-run: after 1-40 more activity executions (the kill lands in the run even on a slow
            // machine; a restarted worker first waits for the dead one's partition lease), plus up to 100 ms
            int target = await toy.CountAsync("markers/") + random.Next(1, 41);
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!p.HasExited && DateTime.UtcNow < deadline && await toy.CountAsync("markers/") < target) await Task.Delay(20);
            await Task.Delay(random.Next(0, 100));
            if (p.HasExited) break;
            p.Kill();

            var committed = (await HarnessProcess.CommittedItemsAsync(observer.Client, instance)).Distinct().ToList();
            foreach (int item in committed)
                if (!runsWhenCommitted.ContainsKey(item))
                    runsWhenCommitted[item] = await toy.CountAsync(WriteItem.MarkerPrefix(item));
            if (committed.Count < Items) killsMidRun++;
            output.WriteLine($"kill {round + 1} (pid {p.ProcessId}): {committed.Count} items committed, {await toy.CountAsync("markers/")} executions");
        }

        using (var last = HarnessProcess.Start(azurite.ConnectionString, options.TaskHubName!, toy, instance, Items, delayMs: 40))
        {
            Assert.True(await last.WaitForExitAsync(TimeSpan.FromMinutes(4)), $"the restarted worker did not finish the run within 4 minutes:\n{last.Tail()}");
            Assert.True(last.ExitCode == 0, last.Tail());
        }
        Assert.True(killsMidRun >= 2, $"only {killsMidRun} kills landed mid-run (seed {seed})");

        var final = (await observer.Client.GetInstanceAsync(instance))!;
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(Items, final.ReadOutput<int>());
        // every output exists, exactly once, with the right content
        var outputs = new List<string>();
        await foreach (var b in toy.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "out/", default)) outputs.Add(b.Name);
        Assert.Equal(Enumerable.Range(0, Items).Select(WriteItem.OutputBlob), outputs.Order());
        for (int i = 0; i < Items; i += 37)
            Assert.Equal($"item {i}", (await toy.GetBlobClient(WriteItem.OutputBlob(i)).DownloadContentAsync()).Value.Content.ToString());
        // no activity whose result was committed ran again afterwards
        foreach (var (item, runs) in runsWhenCommitted)
            Assert.True(runs == await toy.CountAsync(WriteItem.MarkerPrefix(item)), $"item {item} ran again after its result was committed (seed {seed})");
        var all = await HarnessProcess.CommittedItemsAsync(observer.Client, instance);
        Assert.Equal(Enumerable.Range(0, Items), all.Distinct().Order());
        output.WriteLine($"{killsMidRun} kills mid-run; {await toy.CountAsync("markers/")} executions for {Items} items; {runsWhenCommitted.Count} items committed before a kill");
    }

    [Fact]
    public async Task Two_workers_share_a_run_a_joiner_does_not_stall_it_and_the_survivor_of_a_kill_finishes_it()
    {
        var options = azurite.NewOptions();
        await using var observer = new TaskHubEngine(options);

        // 1. A runs alone, B joins mid-run: both run activities of the one instance, and it completes.
        var toy1 = azurite.NewContainer();
        using (var a = HarnessProcess.Start(azurite.ConnectionString, options.TaskHubName!, toy1, "shared-1", 120, delayMs: 400, concurrency: 2))
        {
            await a.Up.WaitAsync(TimeSpan.FromSeconds(60));
            await EngineTestExtensions.EventuallyAsync(async () => await toy1.CountAsync("markers/") >= 10, "A to run activities", 90);
            using var b = HarnessProcess.Start(azurite.ConnectionString, options.TaskHubName!, toy1, "shared-1", 120, delayMs: 400, concurrency: 2);
            Assert.True(await a.WaitForExitAsync(TimeSpan.FromMinutes(3)), $"the run stalled after B joined:\n--- A ---\n{a.Tail()}\n--- B ---\n{b.Tail()}");
            Assert.True(await b.WaitForExitAsync(TimeSpan.FromMinutes(1)), $"B did not see the run finish:\n{b.Tail()}");
            Assert.Equal(0, a.ExitCode);
            Assert.Equal(0, b.ExitCode);
            var pids = await HarnessProcess.ActivityProcessesAsync(toy1);
            Assert.True(pids.SetEquals([a.ProcessId.ToString(), b.ProcessId.ToString()]), $"activities ran in processes {string.Join(", ", pids)}; expected both A and B");
            output.WriteLine($"joiner: activities split between A and B; completed");
        }
        Assert.Equal(120, (await observer.Client.GetInstanceAsync("shared-1"))!.ReadOutput<int>());

        // 2. A and B share a second run; A (which scheduled it and holds its partition at first) is killed; B finishes it.
        var toy2 = azurite.NewContainer();
        using (var a = HarnessProcess.Start(azurite.ConnectionString, options.TaskHubName!, toy2, "shared-2", 120, delayMs: 400, concurrency: 2))
        using (var b = HarnessProcess.Start(azurite.ConnectionString, options.TaskHubName!, toy2, "shared-2", 120, delayMs: 400, concurrency: 2))
        {
            await Task.WhenAll(a.Up, b.Up).WaitAsync(TimeSpan.FromSeconds(60));
            await EngineTestExtensions.EventuallyAsync(async () => (await HarnessProcess.ActivityProcessesAsync(toy2)).Count == 2, "both workers to run activities", 90);
            a.Kill();
            int executionsAtKill = await toy2.CountAsync("markers/");
            output.WriteLine($"killed A (pid {a.ProcessId}) after {executionsAtKill} executions");
            Assert.True(await b.WaitForExitAsync(TimeSpan.FromMinutes(3)), $"B did not finish the run after A was killed:\n{b.Tail()}");
            Assert.True(b.ExitCode == 0, b.Tail());
        }
        var final = (await observer.Client.GetInstanceAsync("shared-2"))!;
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(120, final.ReadOutput<int>());
        Assert.Equal(120, await toy2.CountAsync("out/"));
    }
}
