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
        var request = await DrivingRunTests.Request(fixture, "e2e-drive-crash");
        var (state, outputs) = await CrashRuns.KillResumeAndCompareAsync(fixture.ConnectionString, request, fixture.Folder, DrivingRunFixture.Dataset, output);
        Assert.Equal(RunState.CompletedWithFailures, state); // the four bad edits fail, the run goes on
        Assert.Equal(4, outputs.Keys.Count(k => k.EndsWith(".pcd.bin", StringComparison.Ordinal)));
        Assert.Equal(4, outputs.Keys.Count(k => k.EndsWith(".png", StringComparison.Ordinal) && k.Contains("/out/images/", StringComparison.Ordinal)));
        Assert.Contains(outputs.Keys, k => k.EndsWith($"/{DrivingOutputDataset.LineageTable}.json", StringComparison.Ordinal));
    }
}
