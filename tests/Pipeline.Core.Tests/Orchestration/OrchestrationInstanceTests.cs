using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;

namespace Pipeline.Core.Tests.Orchestration;

public class OrchestrationInstanceTests
{
    private static OrchestrationInstance Instance(RunState state, string? output, string? error = null) => new()
    {
        InstanceId = "run-1", Name = "AugmentationRun", State = state, Error = error,
        Output = output is null ? null : JsonDocument.Parse(output).RootElement.Clone(),
    };

    [Theory]
    [InlineData(RunState.Completed)]
    [InlineData(RunState.CompletedWithFailures)]
    public void A_completed_run_gives_its_output_even_with_failed_items(RunState state) =>
        Assert.Equal(17, Instance(state, "17").ReadOutput<int>());

    [Theory]
    [InlineData(RunState.Failed)]
    [InlineData(RunState.Cancelled)]
    [InlineData(RunState.Running)]
    public void A_run_that_did_not_complete_throws_with_its_reason(RunState state)
    {
        var e = Assert.Throws<OrchestrationFailedException>(() => Instance(state, null, state == RunState.Failed ? "planner: dataset is empty" : null).ReadOutput<int>());
        Assert.Contains(state == RunState.Failed ? "planner: dataset is empty" : $"instance is {state}", e.Message);
    }
}
