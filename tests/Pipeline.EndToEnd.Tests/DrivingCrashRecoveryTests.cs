using System.Diagnostics;
using Pipeline.Core.Contracts;
using Pipeline.Driving.Runs;
using Xunit.Abstractions;

namespace Pipeline.EndToEnd.Tests;

/// <summary>
/// The driving domain's crash recovery (issue 15's acceptance, "a host killed mid-run resumes to identical outputs"):
/// <c>pipeline serve</c> killed with SIGKILL while preprocessing, while sampling and while composing a driving run
/// (driving-tiny on the synthetic "drive" dataset, 4 outputs and 4 bad edits), restarted over the same Azurite; the run
/// ends in the same state as an uninterrupted run of the same request in another Azurite, and every blob under
/// runs/{id}/out/ (camera PNGs, .pcd.bin sweeps, the nuScenes tables with pipeline_lineage, lineage files) has the same
/// SHA-256 and name.
/// </summary>
[Collection(ServeProcessCollection.Name)]
public sealed class DrivingCrashRecoveryTests(DrivingRunFixture fixture, ITestOutputHelper output) : IClassFixture<DrivingRunFixture>
{
    [Fact]
    public async Task A_driving_host_killed_three_times_mid_run_resumes_to_outputs_identical_to_an_uninterrupted_run()
    {
        const string runId = "e2e-drive-crash";
        var request = await DrivingRunTests.Request(fixture, runId);
        string cs = fixture.ConnectionString;
        string cache = Path.Combine(Path.GetTempPath(), $"e2e-drive-crash-cache-{Guid.NewGuid():N}");
        var clock = Stopwatch.StartNew();
        await CrashRuns.KillAtStagesAsync(cs, request, cache, output, clock);
        var crashedState = await CrashRuns.FinishAsync(cs, runId, cache, output);
        Assert.Equal(RunState.CompletedWithFailures, crashedState); // the four bad edits fail, the run goes on
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: the restarted host finished the run");

        var (reference, referenceState) = await CrashRuns.RunUninterruptedAsync(fixture.Folder, DrivingRunFixture.Dataset, request, cache);
        using (reference)
        {
            Assert.Equal(referenceState, crashedState);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: reference run done");
            var expected = await RunStorage.HashesAsync(reference.ConnectionString, runId, "out/");
            var actual = await RunStorage.HashesAsync(cs, runId, "out/");
            Assert.Equal(4, expected.Keys.Count(k => k.EndsWith(".pcd.bin", StringComparison.Ordinal)));
            Assert.Equal(4, expected.Keys.Count(k => k.EndsWith(".png", StringComparison.Ordinal) && k.Contains("/out/images/", StringComparison.Ordinal)));
            Assert.Contains(expected.Keys, k => k.EndsWith($"/{DrivingOutputDataset.LineageTable}.json", StringComparison.Ordinal));
            Assert.Equal(expected, actual); // same blob names (nothing extra, nothing missing), same bytes
            await CrashRuns.AssertNoDuplicateWorkAsync(cs, reference.ConnectionString, runId);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {actual.Count} output blobs identical");
        }
        try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
    }
}
