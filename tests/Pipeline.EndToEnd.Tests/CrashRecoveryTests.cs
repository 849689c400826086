using System.Diagnostics;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Host.Orchestration;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Xunit.Abstractions;

namespace Pipeline.EndToEnd.Tests;

/// <summary>Tests that start <c>pipeline serve</c> child processes run one at a time (they are CPU-heavy).</summary>
[CollectionDefinition(Name)]
public sealed class ServeProcessCollection
{
    public const string Name = "serve processes";
}

/// <summary>
/// Acceptance test of issue 7: the local host (<c>pipeline serve</c>, all roles in one process) is killed with SIGKILL
/// three times at different stages of a run and restarted over the same Azurite; the run completes, and every blob
/// under runs/{id}/out/ has the same SHA-256 as in an uninterrupted run of the same request in another Azurite.
/// </summary>
[Collection(ServeProcessCollection.Name)]
public sealed class CrashRecoveryTests(RunFixture fixture, ITestOutputHelper output) : IClassFixture<RunFixture>
{
    private static AugmentationRequest Request(string runId) => AugmentationRunTests.Request(runId, seed: 21) with
    {
        ShardSize = 2, // 3 shards of 2 items: several checkpoints per stage to land kills between
    };

    /// <summary>A kill point: a prefix under runs/{id}/ whose blob count must grow past its count at the (re)start.</summary>
    private sealed record KillPoint(string Stage, string Prefix);

    [Fact]
    public async Task A_host_killed_three_times_mid_run_resumes_to_outputs_identical_to_an_uninterrupted_run()
    {
        const string runId = "e2e-crash";
        var request = Request(runId);
        string cs = fixture.Azurite.ConnectionString;
        string cache = Path.Combine(Path.GetTempPath(), $"e2e-crash-cache-{Guid.NewGuid():N}");
        var clock = Stopwatch.StartNew();
        // one sub-orchestration per shard (as the demo): kills also land in children
        var settings = new Dictionary<string, string> { ["Pipeline:Run:ShardsPerGroup"] = "1" };
        var points = new[]
        {
            new KillPoint("preprocess", "prep/"),  // plan done, preprocessing under way
            new KillPoint("inference", "gen/"),    // a shard sampled, others queued or sampling
            new KillPoint("compose", "out/images/"), // outputs being written
        };

        await RunStorage.SubmitAsync(cs, request);
        var client = RunStorage.Client(cs);
        int killsMidRun = 0;
        int seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");
        foreach (var point in points)
        {
            using var serve = ServeProcess.Start(cs, "all", cache, settings);
            try
            {
                await serve.WaitRunningAsync(TimeSpan.FromMinutes(1));
                int atStart = await RunStorage.CountAsync(cs, runId, point.Prefix);
                var deadline = DateTime.UtcNow.AddMinutes(3);
                while (await RunStorage.CountAsync(cs, runId, point.Prefix) <= atStart)
                {
                    if (DateTime.UtcNow > deadline) Assert.Fail($"no progress at stage {point.Stage} within 3 minutes:\n{serve.Tail()}");
                    if (serve.HasExited) Assert.Fail($"serve exited on its own:\n{serve.Tail()}");
                    await Task.Delay(50);
                }
                await Task.Delay(random.Next(0, 150)); // a little further into the stage, differently each time
                serve.Kill();
            }
            catch
            {
                output.WriteLine(serve.Tail(200));
                throw;
            }
            var state = (await client.GetInstanceAsync(runId))?.State;
            bool midRun = state is not null && !IsTerminal(state.Value);
            if (midRun) killsMidRun++;
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: killed pid {serve.ProcessId} at stage {point.Stage} " +
                             $"({await RunStorage.CountAsync(cs, runId, point.Prefix)} blobs under {point.Prefix}); run {state?.ToString() ?? "not scheduled"}");
        }
        Assert.Equal(points.Length, killsMidRun); // every kill landed in an unfinished run

        RunState crashedState, referenceState;
        using (var last = ServeProcess.Start(cs, "all", cache, settings))
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
                var final = await client.WaitForCompletionAsync(runId, cts.Token);
                crashedState = final.State;
                Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");
            }
            catch
            {
                output.WriteLine(last.Tail(200));
                throw;
            }
        }
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: the restarted host finished the run");

        // The same request, uninterrupted, in a separate Azurite (in-process host).
        using var reference = await AzuriteServer.StartAsync();
        await RunFixture.UploadAsync(reference.ConnectionString, fixture.DatasetFolder, RunFixture.Dataset);
        await using (var host = await LocalPipelineHost.StartAsync(reference.ConnectionString, new Dictionary<string, string?>
                     {
                         ["Pipeline:Engine:ClientPollInterval"] = "00:00:00.200",
                         ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
                         ["Pipeline:Models:CacheDirectory"] = cache,
                         ["Pipeline:Run:ShardsPerGroup"] = "1",
                     }))
        {
            await host.SubmitAsync(request);
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            while (await host.Orchestrations.GetInstanceAsync(runId, cts.Token) is null) await Task.Delay(200, cts.Token);
            var final = await host.Orchestrations.WaitForCompletionAsync(runId, cts.Token);
            referenceState = final.State;
        }
        Assert.Equal(referenceState, crashedState);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: reference run done");

        var expected = await RunStorage.HashesAsync(reference.ConnectionString, runId, "out/");
        var actual = await RunStorage.HashesAsync(cs, runId, "out/");
        Assert.Contains(expected.Keys, k => k.EndsWith(".dcm", StringComparison.Ordinal));
        Assert.Equal(expected, actual); // same blob names (nothing extra, nothing missing), same bytes

        // No duplicates: one item result per planned item, one annotation row per output, one outcome per checkpointed call.
        var storage = new PipelineStorage(cs);
        var run = storage.Run(runId);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
        var planned = await RunResults.ReadPlannedItemsAsync(run, plan, CancellationToken.None);
        var results = await RunResults.ReadItemsAsync(run, CancellationToken.None);
        Assert.Equal(planned.Select(p => p.ItemId).Order(), results.Select(r => r.ItemId).Order());
        var rows = (await run.ReadAsync(RunBlobs.Annotations))!.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(rows.Count, rows.Distinct().Count());
        Assert.Equal(await RunStorage.CountAsync(cs, runId, "items/"), await RunStorage.CountAsync(reference.ConnectionString, runId, "items/"));

        var instances = await RunStorage.InstanceIdsAsync(cs, runId);
        Assert.Contains(runId, instances);
        Assert.Equal(1 + plan.Shards.Count, instances.Count); // the run and one child per shard, no stray instances
        foreach (var id in instances)
        {
            // every scheduled call has an outcome in the framework's history, and no call was scheduled twice (a
            // replay after a kill answers calls from the history instead of scheduling them again)
            var history = await client.GetHistoryAsync(id);
            var scheduled = history.Where(h => h.Type == DurableTask.Core.History.EventType.TaskScheduled).Select(h => h.EventId).ToList();
            var outcomes = history.Where(h => h.Type is DurableTask.Core.History.EventType.TaskCompleted or DurableTask.Core.History.EventType.TaskFailed)
                .Select(h => h.TaskScheduledId!.Value).ToHashSet();
            Assert.Equal(scheduled.Count, scheduled.Distinct().Count());
            Assert.True(outcomes.SetEquals(scheduled), $"instance {id}: scheduled calls and outcomes differ");
            Assert.True((await client.GetInstanceAsync(id))!.State is RunState.Completed or RunState.CompletedWithFailures, $"instance {id} did not complete");
        }
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {actual.Count} output blobs identical; {instances.Count} instances");
        try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
    }

    private static bool IsTerminal(RunState s) => s is RunState.Completed or RunState.CompletedWithFailures or RunState.Failed
        or RunState.Cancelled or RunState.Rejected;
}
