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
    public async Task A_worker_killed_at_random_points_of_its_progress_resumes_and_writes_every_output_once()
    {
        var options = azurite.NewOptions();
        var toy = azurite.NewContainer();
        await using var observer = new TaskHubEngine(options); // client only: reads state and history
        const string instance = "crash-run";
        int seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");

        // Each kill lands after the (re)started worker has committed 1-30 more results to the instance's history: a
        // kill counted in activity executions alone can land before a restarted worker has taken the orchestration's
        // partition back from the dead one (its lease runs out first), and then nothing of the run progresses
        // between kills. Progress is measured where it is durable: the committed history.
        int killsMidRun = 0, committedBefore = 0;
        for (int round = 1; round <= 3; round++)
        {
            using var p = HarnessProcess.Start(azurite.ConnectionString, options.TaskHubName!, toy, instance, Items, delayMs: 250);
            await p.Up.WaitAsync(TimeSpan.FromMinutes(2));
            int target = committedBefore + random.Next(1, 31), committed = committedBefore;
            var deadline = DateTime.UtcNow.AddMinutes(4);
            while (!p.HasExited && committed < target)
            {
                Assert.True(DateTime.UtcNow < deadline,
                    $"round {round}: the worker committed {committed - committedBefore} results in 4 minutes (seed {seed}):\n{p.Tail()}");
                await Task.Delay(250);
                committed = (await HarnessProcess.CommittedItemsAsync(observer.Client, instance)).Distinct().Count();
            }
            await Task.Delay(random.Next(0, 200));
            if (p.HasExited) break;
            p.Kill();
            committedBefore = (await HarnessProcess.CommittedItemsAsync(observer.Client, instance)).Distinct().Count();
            if (committedBefore < Items) killsMidRun++;
            output.WriteLine($"kill {round} (pid {p.ProcessId}): {committedBefore} results committed, {await toy.CountAsync("markers/")} executions");
        }

        using (var last = HarnessProcess.Start(azurite.ConnectionString, options.TaskHubName!, toy, instance, Items, delayMs: 250))
        {
            Assert.True(await last.WaitForExitAsync(TimeSpan.FromMinutes(5)), $"the restarted worker did not finish the run within 5 minutes (seed {seed}):\n{last.Tail()}");
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
        foreach (string name in outputs)
            Assert.Equal($"item {int.Parse(name[4..8])}", (await toy.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToString());
        // every scheduled call answered in the history; an activity whose message was in flight at a kill may have run
        // twice (at-least-once delivery), and the framework keeps the first result
        var all = await HarnessProcess.CommittedItemsAsync(observer.Client, instance);
        Assert.Equal(Enumerable.Range(0, Items), all.Distinct().Order());
        output.WriteLine($"{killsMidRun} kills mid-run; {await toy.CountAsync("markers/")} executions for {Items} items");
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
