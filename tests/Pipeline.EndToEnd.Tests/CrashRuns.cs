using System.Diagnostics;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Xunit.Abstractions;

namespace Pipeline.EndToEnd.Tests;

/// <summary>A kill point: a prefix under runs/{id}/ whose blob count must grow past its count at the (re)start.</summary>
public sealed record KillPoint(string Stage, string Prefix);

/// <summary>
/// The steps of a crash-recovery test, shared by the domains' tests: <c>pipeline serve</c> killed with SIGKILL once per
/// kill point and restarted over the same Azurite, the run finished by a last host, the same request run uninterrupted in
/// another Azurite, and the checks that the recovered run has no duplicate work.
/// </summary>
public static class CrashRuns
{
    /// <summary>The kill points of a run: plan done and preprocessing under way; a shard sampled; outputs being written.</summary>
    public static readonly IReadOnlyList<KillPoint> Stages =
    [
        new("preprocess", "prep/"),
        new("inference", "gen/"),
        new("compose", "out/images/"),
    ];

    /// <summary>One sub-orchestration per shard (as the demo): kills also land in children.</summary>
    public static readonly IReadOnlyDictionary<string, string> ServeSettings = new Dictionary<string, string> { ["Pipeline:Run:ShardsPerGroup"] = "1" };

    /// <summary>Submits the request, then for each kill point starts serve, waits until the point's prefix grows, goes a
    /// random 0-150 ms further and kills it; asserts that every kill landed in an unfinished run.</summary>
    public static async Task KillAtStagesAsync(string connectionString, AugmentationRequest request, string modelCache, ITestOutputHelper output, Stopwatch clock)
    {
        string runId = request.RunId!;
        await RunStorage.SubmitAsync(connectionString, request);
        var client = RunStorage.Client(connectionString);
        int killsMidRun = 0;
        int seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"seed {seed}");
        foreach (var point in Stages)
        {
            using var serve = ServeProcess.Start(connectionString, "all", modelCache, ServeSettings);
            try
            {
                await serve.WaitRunningAsync(TimeSpan.FromMinutes(1));
                int atStart = await RunStorage.CountAsync(connectionString, runId, point.Prefix);
                var deadline = DateTime.UtcNow.AddMinutes(3);
                while (await RunStorage.CountAsync(connectionString, runId, point.Prefix) <= atStart)
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
            if (state is not null && !IsTerminal(state.Value)) killsMidRun++;
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: killed pid {serve.ProcessId} at stage {point.Stage} " +
                             $"({await RunStorage.CountAsync(connectionString, runId, point.Prefix)} blobs under {point.Prefix}); run {state?.ToString() ?? "not scheduled"}");
        }
        Assert.Equal(Stages.Count, killsMidRun); // every kill landed in an unfinished run
    }

    /// <summary>A last serve process finishes the run; returns its final state (completed, with or without failures).</summary>
    public static async Task<RunState> FinishAsync(string connectionString, string runId, string modelCache, ITestOutputHelper output)
    {
        using var last = ServeProcess.Start(connectionString, "all", modelCache, ServeSettings);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            var final = await RunStorage.Client(connectionString).WaitForCompletionAsync(runId, cts.Token);
            Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");
            return final.State;
        }
        catch
        {
            output.WriteLine(last.Tail(200));
            throw;
        }
    }

    /// <summary>The same request uninterrupted, in a new Azurite holding <paramref name="datasetFolder"/> as
    /// <paramref name="dataset"/> (in-process host); returns that Azurite (the caller disposes it) and the run's state.</summary>
    public static async Task<(AzuriteServer Server, RunState State)> RunUninterruptedAsync(string datasetFolder, string dataset, AugmentationRequest request, string modelCache)
    {
        var reference = await AzuriteServer.StartAsync();
        try
        {
            await RunFixture.UploadAsync(reference.ConnectionString, datasetFolder, dataset);
            await using var host = await LocalPipelineHost.StartAsync(reference.ConnectionString, new Dictionary<string, string?>
            {
                ["Pipeline:Engine:ClientPollInterval"] = "00:00:00.200",
                ["Pipeline:InferenceWorker:PollInterval"] = "00:00:00.200",
                ["Pipeline:Models:CacheDirectory"] = modelCache,
                ["Pipeline:Run:ShardsPerGroup"] = "1",
            });
            var final = await HostRuns.SubmitAndWaitAsync(host, request, TimeSpan.FromMinutes(4));
            return (reference, final.State);
        }
        catch
        {
            reference.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The whole crash-recovery check of a request: serve killed at every stage (<see cref="KillAtStagesAsync"/>), the run
    /// finished by a last host, the same request run uninterrupted in another Azurite holding the same dataset; both
    /// end in the same state, every blob under runs/{id}/out/ has the same name and SHA-256 in both, and there is no
    /// duplicate work (<see cref="AssertNoDuplicateWorkAsync"/>). Returns the run's state and its out/ hashes for the
    /// domain's own checks.
    /// </summary>
    public static async Task<(RunState State, SortedDictionary<string, string> Outputs)> KillResumeAndCompareAsync(string connectionString,
        AugmentationRequest request, string datasetFolder, string dataset, ITestOutputHelper output)
    {
        string runId = request.RunId!;
        string cache = Path.Combine(Path.GetTempPath(), $"e2e-crash-cache-{Guid.NewGuid():N}");
        var clock = Stopwatch.StartNew();
        try
        {
            await KillAtStagesAsync(connectionString, request, cache, output, clock);
            var crashedState = await FinishAsync(connectionString, runId, cache, output);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: the restarted host finished the run");
            var (reference, referenceState) = await RunUninterruptedAsync(datasetFolder, dataset, request, cache);
            using (reference)
            {
                Assert.Equal(referenceState, crashedState);
                output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: reference run done");
                var expected = await RunStorage.HashesAsync(reference.ConnectionString, runId, "out/");
                var actual = await RunStorage.HashesAsync(connectionString, runId, "out/");
                Assert.Equal(expected, actual); // same blob names (nothing extra, nothing missing), same bytes
                await AssertNoDuplicateWorkAsync(connectionString, reference.ConnectionString, runId);
                output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {actual.Count} output blobs identical");
                return (crashedState, actual);
            }
        }
        finally
        {
            try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>No duplicate work after the kills: one item result per planned item, the same number of item blobs as the
    /// uninterrupted run, the run and one child per shard (no stray instances), and in every instance's history each
    /// scheduled call scheduled once and answered once (a replay after a kill answers calls from the history).</summary>
    public static async Task AssertNoDuplicateWorkAsync(string connectionString, string referenceConnectionString, string runId)
    {
        var storage = new PipelineStorage(connectionString);
        var run = storage.Run(runId);
        var plan = (await run.ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
        var planned = await RunResults.ReadPlannedItemsAsync(run, plan, CancellationToken.None);
        var results = await RunResults.ReadItemsAsync(run, CancellationToken.None);
        Assert.Equal(planned.Select(p => p.ItemId).Order(), results.Select(r => r.ItemId).Order());
        Assert.Equal(await RunStorage.CountAsync(connectionString, runId, "items/"), await RunStorage.CountAsync(referenceConnectionString, runId, "items/"));

        var client = RunStorage.Client(connectionString);
        var instances = await RunStorage.InstanceIdsAsync(connectionString, runId);
        Assert.Contains(runId, instances);
        Assert.Equal(1 + plan.Shards.Count, instances.Count);
        foreach (var id in instances)
        {
            var history = await client.GetHistoryAsync(id);
            var scheduled = history.Where(h => h.Type == DurableTask.Core.History.EventType.TaskScheduled).Select(h => h.EventId).ToList();
            var outcomes = history.Where(h => h.Type is DurableTask.Core.History.EventType.TaskCompleted or DurableTask.Core.History.EventType.TaskFailed)
                .Select(h => h.TaskScheduledId!.Value).ToHashSet();
            Assert.Equal(scheduled.Count, scheduled.Distinct().Count());
            Assert.True(outcomes.SetEquals(scheduled), $"instance {id}: scheduled calls and outcomes differ: scheduled without an outcome " +
                $"[{string.Join(", ", scheduled.Except(outcomes))}], outcomes of calls not scheduled [{string.Join(", ", outcomes.Except(scheduled))}] " +
                $"(history: {string.Join(", ", history.Select(h => $"{h.Type}#{h.EventId}"))})");
            Assert.True((await client.GetInstanceAsync(id))!.State is RunState.Completed or RunState.CompletedWithFailures, $"instance {id} did not complete");
        }
    }

    private static bool IsTerminal(RunState s) => s is RunState.Completed or RunState.CompletedWithFailures or RunState.Failed
        or RunState.Cancelled or RunState.Rejected;
}
