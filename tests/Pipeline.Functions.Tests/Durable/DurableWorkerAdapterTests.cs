using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Orchestration;

namespace Pipeline.Functions.Tests.Durable;

/// <summary>The adapter from Durable's TaskOrchestrationContext to the port (DurableRunContext over
/// TaskOrchestrationContextAdapter) on the real DurableTask worker: retries, sub-orchestrations, an external event
/// with a timeout, custom status and cancellation, each through Durable's client, with the port's semantics (the ones
/// the local host implements).</summary>
public sealed class DurableWorkerAdapterTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private static async Task<OrchestrationInstance> CompletedAsync(DurableWorkerHost host, string id)
    {
        using var cts = new CancellationTokenSource(Limit);
        return await host.Orchestrations.WaitForCompletionAsync(id, cts.Token);
    }

    [Fact]
    public async Task Activity_retries_follow_the_policy_and_a_final_failure_names_the_activity_its_error_and_attempts()
    {
        var attempts = new ConcurrentDictionary<string, int>();
        var registry = new OrchestrationRegistry()
            .AddActivity("Flaky", (input, _) =>
            {
                int n = attempts.AddOrUpdate("Flaky", 1, (_, c) => c + 1);
                if (n < 3) throw new IOException($"flaky attempt {n}");
                return Task.FromResult<object?>(input.GetInt32() + 1);
            })
            .AddActivity("AlwaysFails", (_, _) =>
            {
                attempts.AddOrUpdate("AlwaysFails", 1, (_, c) => c + 1);
                throw new InvalidDataException("bad input");
            })
            .AddOrchestrator("Retries", async ctx =>
            {
                int a = await ctx.CallActivityAsync<int>("Flaky", 5, new RetryPolicy(3, TimeSpan.FromMilliseconds(20)));
                try
                {
                    await ctx.CallActivityAsync<int>("AlwaysFails", 0, new RetryPolicy(2, TimeSpan.FromMilliseconds(10)));
                    return new { a, failure = "none" };
                }
                catch (ActivityFailedException e)
                {
                    return new { a, failure = $"{e.ActivityName}|{e.ErrorType}|{e.ErrorMessage}|{e.Attempts}" };
                }
            });
        await using var host = await DurableWorkerHost.StartAsync(registry);
        Assert.True(await host.Orchestrations.ScheduleNewAsync("Retries", "retries-1", null));
        var done = await CompletedAsync(host, "retries-1");
        Assert.Equal(RunState.Completed, done.State);
        var output = done.Output!.Value;
        Assert.Equal(6, output.GetProperty("a").GetInt32());
        Assert.Equal("AlwaysFails|InvalidDataException|bad input|2", output.GetProperty("failure").GetString());
        Assert.Equal(3, attempts["Flaky"]);
        Assert.Equal(2, attempts["AlwaysFails"]);
    }

    [Fact]
    public async Task A_failed_sub_orchestration_is_retried_as_instance_retry2_and_its_result_returned()
    {
        var childIds = new ConcurrentQueue<string>();
        var registry = new OrchestrationRegistry()
            .AddActivity("Times10", (input, _) => Task.FromResult<object?>(input.GetInt32() * 10))
            .AddOrchestrator("Child", async ctx =>
            {
                if (!ctx.IsReplaying) childIds.Enqueue(ctx.InstanceId);
                if (!ctx.InstanceId.EndsWith("-retry2", StringComparison.Ordinal))
                    throw new InvalidOperationException("first attempt fails");
                return await ctx.CallActivityAsync<int>("Times10", ctx.GetInput<int>());
            })
            .AddOrchestrator("Parent", async ctx =>
                await ctx.CallSubOrchestratorAsync<int>("Child", ctx.InstanceId + "-c", 7, new RetryPolicy(2, TimeSpan.FromMilliseconds(20))));
        await using var host = await DurableWorkerHost.StartAsync(registry);
        await host.Orchestrations.ScheduleNewAsync("Parent", "parent-1", null);
        var done = await CompletedAsync(host, "parent-1");
        Assert.Equal(RunState.Completed, done.State);
        Assert.Equal(70, done.Output!.Value.GetInt32());
        Assert.Equal(["parent-1-c", "parent-1-c-retry2"], childIds.Distinct().ToList());
        // both children exist in Durable's store, the first one failed
        Assert.Equal(OrchestrationRuntimeStatus.Failed, (await host.Client.GetInstanceAsync("parent-1-c"))!.RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Client.GetInstanceAsync("parent-1-c-retry2"))!.RuntimeStatus);
    }

    [Fact]
    public async Task An_external_event_arrives_before_its_timeout_or_the_wait_times_out()
    {
        var registry = new OrchestrationRegistry()
            .AddOrchestrator("Waits", async ctx =>
            {
                var timeout = ctx.GetInput<int>() == 0 ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromMinutes(5);
                ctx.SetCustomStatus(new { stage = "waiting" });
                try { return "received " + await ctx.WaitForExternalEventAsync<string>("go", timeout); }
                catch (TimeoutException) { return "timeout"; }
            });
        await using var host = await DurableWorkerHost.StartAsync(registry);
        await host.Orchestrations.ScheduleNewAsync("Waits", "wait-timeout", 0);
        await host.Orchestrations.ScheduleNewAsync("Waits", "wait-event", 1);
        // raise once the instance waits (its custom status says so)
        using var cts = new CancellationTokenSource(Limit);
        while ((await host.Orchestrations.GetInstanceAsync("wait-event", cts.Token))?.CustomStatus is null)
            await Task.Delay(50, cts.Token);
        await host.Orchestrations.RaiseEventAsync("wait-event", "go", "now", cts.Token);
        Assert.Equal("timeout", (await CompletedAsync(host, "wait-timeout")).Output!.Value.GetString());
        Assert.Equal("received now", (await CompletedAsync(host, "wait-event")).Output!.Value.GetString());
        // the timer the event beat was cancelled: the instance completed instead of waiting five minutes
    }

    [Fact]
    public async Task Custom_status_is_read_back_with_stage_and_progress_and_a_cancelled_run_ends_Cancelled_with_its_reason()
    {
        var registry = new OrchestrationRegistry()
            .AddOrchestrator("Long", async ctx =>
            {
                ctx.SetCustomStatus(new { stage = "infer", progress = new RunProgress(10, 4, 1) });
                await ctx.WaitForExternalEventAsync<string>("never", Timeout.InfiniteTimeSpan);
                return "unreachable";
            });
        await using var host = await DurableWorkerHost.StartAsync(registry);
        await host.Orchestrations.ScheduleNewAsync("Long", "long-1", null);
        using var cts = new CancellationTokenSource(Limit);
        OrchestrationInstance? running;
        while ((running = await host.Orchestrations.GetInstanceAsync("long-1", cts.Token))?.Progress is null)
            await Task.Delay(50, cts.Token);
        Assert.Equal(RunState.Running, running.State);
        Assert.Equal(new RunProgress(10, 4, 1), running.Progress);
        Assert.Equal("infer", running.CustomStatus!.Value.GetProperty("stage").GetString());

        await host.Orchestrations.CancelAsync("long-1", "stopped by the test", cts.Token);
        var done = await CompletedAsync(host, "long-1");
        Assert.Equal(RunState.Cancelled, done.State);
        Assert.Equal("stopped by the test", done.Error);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await host.Client.GetInstanceAsync("long-1"))!.RuntimeStatus);
        // a second start of the same id is refused (every state deduplicates), as on the local host
        Assert.False(await host.Orchestrations.ScheduleNewAsync("Long", "long-1", null));
    }
}
