using Azure.Storage.Blobs.Models;
using System.Diagnostics;
using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.EngineHarness;
using Pipeline.Host.Engine;
using Xunit.Abstractions;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.Engine;

/// <summary>
/// (b) The engine runs in a child process (tests/Pipeline.EngineHarness) that is killed with SIGKILL at random points
/// and restarted; one Azurite lives across the restarts.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class CrashRecoveryTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Items = 200;

    /// <summary>Starts the harness; <paramref name="engineUp"/> completes when its engine runs the instance.</summary>
    private static Process StartHarness(string args, out Task engineUp)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engineUp = up.Task;
        string dll = Path.Combine(AppContext.BaseDirectory, "Pipeline.EngineHarness.dll");
        Assert.True(File.Exists(dll), $"harness not built next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args.Split(' ')) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data is "scheduled" or "resuming") up.TrySetResult(); };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    [Fact]
    public async Task AnEngineKilledAtRandomPointsResumesAndNeverRerunsCheckpointedActivities()
    {
        var options = azurite.NewOptions();
        var toy = azurite.NewContainer();
        var store = new BlobCheckpointStore(options);
        string args = $"--connection {azurite.ConnectionString} --engine-container {options.ContainerName} --toy-container {toy.Name} " +
                      $"--instance crash-run --items {Items} --delay-ms 40 --concurrency 4";
        int seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");

        // Item -> how many times it had run when its outcome was first seen in the checkpoint log.
        var runsWhenCheckpointed = new Dictionary<int, int>();
        int kills = 0, killsMidRun = 0;
        for (int round = 0; round < 5; round++)
        {
            using var p = StartHarness(args, out var engineUp);
            await Task.WhenAny(engineUp, Task.Delay(TimeSpan.FromSeconds(30)));
            if (round == 0)
            {
                await Task.Delay(random.Next(0, 300)); // during start-up and replay
            }
            else
            {
                // A random point mid-run: after 1-40 more activity executions (so the kill lands in the run even on a
                // slow machine), plus up to 100 ms.
                int target = await toy.CountAsync("markers/") + random.Next(1, 41);
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (!p.HasExited && DateTime.UtcNow < deadline && await toy.CountAsync("markers/") < target) await Task.Delay(20);
                await Task.Delay(random.Next(0, 100));
            }
            if (p.HasExited) break;
            p.Kill(entireProcessTree: true); // SIGKILL: no shutdown code runs
            await p.WaitForExitAsync();
            kills++;

            var log = await store.ReadLogAsync("crash-run").ToListAsync();
            var items = log.Where(r => r.Kind == CheckpointKind.Activity && r.Name == WriteItem.ActivityName)
                .Select(r => JsonSerializer.Deserialize<ToyItemResult>(r.ResultJson!, Pipeline.Core.Orchestration.OrchestrationJson.Options)!.Item).ToList();
            Assert.Equal(items.Count, items.Distinct().Count()); // one outcome per call
            foreach (int item in items)
                if (!runsWhenCheckpointed.ContainsKey(item))
                    runsWhenCheckpointed[item] = await toy.CountAsync(WriteItem.MarkerPrefix(item));
            if (items.Count is > 0 and < Items) killsMidRun++;
            output.WriteLine($"kill {kills}: {items.Count} items checkpointed");
        }

        using (var last = StartHarness(args, out _))
        {
            var exited = last.WaitForExitAsync();
            if (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromMinutes(3))) != exited)
            {
                last.Kill(entireProcessTree: true);
                Assert.Fail("the restarted engine did not finish the run within 3 minutes");
            }
            Assert.Equal(0, last.ExitCode);
        }

        Assert.True(kills >= 1, "the harness finished before the first kill; nothing was tested");
        Assert.True(killsMidRun >= 1, $"no kill landed mid-run (seed {seed})");
        var instance = (await new LocalOrchestrationClient(store, options).GetInstanceAsync("crash-run"))!;
        Assert.Equal(RunState.Completed, instance.State);
        Assert.Equal(Items, instance.ReadOutput<int>());

        // Every output exists, exactly once, with the right content.
        var outputs = new List<string>();
        await foreach (var b in toy.GetBlobsAsync(BlobTraits.None, BlobStates.None, "out/", default)) outputs.Add(b.Name);
        Assert.Equal(Enumerable.Range(0, Items).Select(WriteItem.OutputBlob), outputs.Order());
        for (int i = 0; i < Items; i += 37)
            Assert.Equal($"item {i}", (await toy.GetBlobClient(WriteItem.OutputBlob(i)).DownloadContentAsync()).Value.Content.ToString());

        // No activity whose outcome was checkpointed ran again after that.
        foreach (var (item, runs) in runsWhenCheckpointed)
            Assert.True(runs == await toy.CountAsync(WriteItem.MarkerPrefix(item)), $"item {item} ran again after it was checkpointed");
        for (int i = 0; i < Items; i++) Assert.True(await toy.CountAsync(WriteItem.MarkerPrefix(i)) >= 1);

        var finalLog = await store.ReadLogAsync("crash-run").ToListAsync();
        Assert.Equal(Items + 1, finalLog.Count);
        Assert.Equal(Items + 1, finalLog.Select(r => r.Sequence).Distinct().Count());
        var status = (await new Azure.Storage.Blobs.BlobContainerClient(azurite.ConnectionString, options.StatusContainerName)
            .GetBlobClient("crash-run/status.json").DownloadContentAsync()).Value.Content.ToObjectFromJson<RunStatus>(PipelineJson.Options)!;
        Assert.Equal(RunState.Completed, status.State);
        output.WriteLine($"{kills} kills ({killsMidRun} mid-run), {instance.State}, executions recorded in {finalLog.Count} log records");
    }
}
