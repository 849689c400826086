using System.Diagnostics;
using Pipeline.Core.Contracts;
using Pipeline.Host.Runs;
using Pipeline.Storage;
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

    [Fact]
    public async Task A_host_killed_three_times_mid_run_resumes_to_outputs_identical_to_an_uninterrupted_run()
    {
        const string runId = "e2e-crash";
        var request = Request(runId);
        string cs = fixture.Azurite.ConnectionString;
        string cache = Path.Combine(Path.GetTempPath(), $"e2e-crash-cache-{Guid.NewGuid():N}");
        var clock = Stopwatch.StartNew();
        await CrashRuns.KillAtStagesAsync(cs, request, cache, output, clock);
        var crashedState = await CrashRuns.FinishAsync(cs, runId, cache, output);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: the restarted host finished the run");

        // The same request, uninterrupted, in a separate Azurite (in-process host).
        var (reference, referenceState) = await CrashRuns.RunUninterruptedAsync(fixture.DatasetFolder, RunFixture.Dataset, request, cache);
        using (reference)
        {
            Assert.Equal(referenceState, crashedState);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: reference run done");

            var expected = await RunStorage.HashesAsync(reference.ConnectionString, runId, "out/");
            var actual = await RunStorage.HashesAsync(cs, runId, "out/");
            Assert.Contains(expected.Keys, k => k.EndsWith(".dcm", StringComparison.Ordinal));
            Assert.Equal(expected, actual); // same blob names (nothing extra, nothing missing), same bytes

            // one annotation row per output, then the run-wide checks of no duplicate work
            var run = new PipelineStorage(cs).Run(runId);
            var rows = (await run.ReadAsync(RunBlobs.Annotations))!.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
            Assert.Equal(rows.Count, rows.Distinct().Count());
            await CrashRuns.AssertNoDuplicateWorkAsync(cs, reference.ConnectionString, runId);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {actual.Count} output blobs identical");
        }
        try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
    }
}
