using System.Diagnostics;
using DurableTask.Core.History;
using Pipeline.Core.Contracts;
using Pipeline.Core.Runs;
using Pipeline.Host.Local;
using Pipeline.Host.Runs;
using Pipeline.Host.TaskHub;
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
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PIPELINE_CRASH_SEED"), out int s) ? s : Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"seed {seed} (replay: PIPELINE_CRASH_SEED={seed}; it fixes the extra 0-150 ms before each kill, not the timing of the run)");
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
            // A child whose last step a kill interrupted after its completion was sent to the parent but before its own
            // history and status were written (the provider sends a step's messages first) is finished when its message
            // comes back to this host, after the control queue's visibility timeout (docs/engine.md): the parent can
            // complete before that, so this host stays until every instance of the run has finished (fails after 2 min).
            var settle = Stopwatch.StartNew();
            var open = await UnfinishedInstancesAsync(connectionString, runId);
            while (open.Count > 0)
            {
                if (settle.Elapsed > TimeSpan.FromMinutes(2))
                    Assert.Fail($"instances [{string.Join(", ", open)}] had not finished {settle.Elapsed.TotalSeconds:F0} s after the run completed");
                await Task.Delay(500);
                open = await UnfinishedInstancesAsync(connectionString, runId);
            }
            if (settle.Elapsed > TimeSpan.FromSeconds(1))
                output.WriteLine($"every instance of the run finished {settle.Elapsed.TotalSeconds:F1} s after the run completed");
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
                foreach (string note in await AssertNoDuplicateWorkAsync(connectionString, reference.ConnectionString, runId))
                    output.WriteLine($"dropped by the engine: {note}");
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
    /// uninterrupted run, the run and one child per shard (no stray instances), and every instance's history passes
    /// <see cref="HistoryProblem"/>. Returns the notes of results the engine dropped as stale (see StaleResults).</summary>
    public static async Task<IReadOnlyList<string>> AssertNoDuplicateWorkAsync(string connectionString, string referenceConnectionString, string runId)
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
        var dropped = new List<string>();
        foreach (var id in instances)
        {
            var history = await client.GetHistoryAsync(id);
            if (HistoryProblem(history) is { } problem) Assert.Fail($"instance {id}: {problem}");
            dropped.AddRange(history.Where(h => h.Type == EventType.GenericEvent).Select(h => $"{id}: {h.Input}"));
            Assert.True((await client.GetInstanceAsync(id))!.State is RunState.Completed or RunState.CompletedWithFailures, $"instance {id} did not complete");
        }
        return dropped;
    }

    /// <summary>
    /// What is wrong with a finished instance's history, or null: every call (TaskScheduled) has its own event id, and
    /// the calls answered (TaskCompleted/TaskFailed) are exactly the calls made. A replay after a kill answers calls
    /// from the history, so a call made twice, a call left without an answer or an answer to a call that is not there
    /// (an id taken by a timer or by another call) is work done twice or delivered to the wrong call. An activity can
    /// still run twice and answer twice under its own id (the framework delivers messages at least once; the second
    /// answer is ignored), and a result the engine recognized as stale is kept as a GenericEvent: neither is a problem.
    /// </summary>
    public static string? HistoryProblem(IReadOnlyList<HistoryRecord> history)
    {
        var scheduled = history.Where(h => h.Type == EventType.TaskScheduled).Select(h => h.EventId).ToList();
        var outcomes = history.Where(h => h.Type is EventType.TaskCompleted or EventType.TaskFailed).Select(h => h.TaskScheduledId!.Value).ToHashSet();
        var twice = scheduled.GroupBy(x => x).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (twice.Count == 0 && outcomes.SetEquals(scheduled)) return null;
        return $"calls made twice [{string.Join(", ", twice)}], calls without an answer [{string.Join(", ", scheduled.Except(outcomes))}], " +
               $"answers to calls not made [{string.Join(", ", outcomes.Except(scheduled))}] (history: {Describe(history)})";
    }

    private static string Describe(IEnumerable<HistoryRecord> history) => string.Join(", ", history
        .Where(h => h.Type is not (EventType.OrchestratorStarted or EventType.OrchestratorCompleted))
        .Select(h => h.Type switch
        {
            EventType.TaskCompleted or EventType.TaskFailed or EventType.TimerFired or EventType.SubOrchestrationInstanceCompleted
                or EventType.SubOrchestrationInstanceFailed => $"{h.Type}->{h.TaskScheduledId}",
            EventType.GenericEvent => $"{h.Type} '{h.Input}'",
            _ => $"{h.Type}#{h.EventId}{(h.Name is null ? "" : " " + h.Name)}",
        }));

    private static async Task<List<string>> UnfinishedInstancesAsync(string connectionString, string runId)
    {
        var client = RunStorage.Client(connectionString);
        var open = new List<string>();
        foreach (var id in await RunStorage.InstanceIdsAsync(connectionString, runId))
            if ((await client.GetInstanceAsync(id))?.State is not { } state || !IsTerminal(state)) open.Add(id);
        return open;
    }

    private static bool IsTerminal(RunState s) => s is RunState.Completed or RunState.CompletedWithFailures or RunState.Failed
        or RunState.Cancelled or RunState.Rejected;
}
