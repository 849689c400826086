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
        string cs = fixture.Azurite.ConnectionString;
        var (_, outputs) = await CrashRuns.KillResumeAndCompareAsync(cs, Request(runId), fixture.DatasetFolder, RunFixture.Dataset, output);
        Assert.Contains(outputs.Keys, k => k.EndsWith(".dcm", StringComparison.Ordinal));
        // one annotation row per output
        var rows = (await new PipelineStorage(cs).Run(runId).ReadAsync(RunBlobs.Annotations))!.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(rows.Count, rows.Distinct().Count());
    }
}
