using System.Text.Json;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.AzureFunctions;
using Pipeline.Host.Orchestration;

namespace Pipeline.Host.Tests.AzureFunctions;

/// <summary>The mapping from Durable Functions onto the orchestration port (Pipeline.Host.AzureFunctions), against the port's
/// documented semantics, which the local engine implements.</summary>
public class DurableAdapterTests
{
    // ------------------------------------------------------------------ retry mapping

    [Fact]
    public void SingleAttemptPoliciesNeedNoDurableRetry()
    {
        Assert.Null(DurableRetry.From(null));
        Assert.Null(DurableRetry.From(RetryPolicy.None));
        Assert.Null(DurableRetry.From(new RetryPolicy(1, TimeSpan.FromSeconds(5))));
    }

    [Fact]
    public void TheDefaultPolicyMapsOneToOne()
    {
        Assert.Equal(new DurableRetry(3, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(30)), DurableRetry.From(RetryPolicy.Default));
    }

    public static TheoryData<RetryPolicy> Policies => new()
    {
        RetryPolicy.Default,
        new RetryPolicy(5, TimeSpan.Zero),                                         // retry at once
        new RetryPolicy(6, TimeSpan.FromSeconds(10), 3.0, TimeSpan.FromSeconds(2)), // cap below the first interval
        new RetryPolicy(8, TimeSpan.FromMinutes(30), 4.0),                          // no cap: the port caps at a day
        new RetryPolicy(4, TimeSpan.FromSeconds(2), 1.0, TimeSpan.Zero),            // cap of zero
    };

    [Theory]
    [MemberData(nameof(Policies))]
    public void DurableWaitsWhatTheLocalEngineWaitsWithinDurablesConstraints(RetryPolicy policy)
    {
        var d = DurableRetry.From(policy)!;
        // Microsoft.DurableTask.RetryPolicy's argument checks
        Assert.True(d.MaxNumberOfAttempts > 0);
        Assert.True(d.FirstRetryInterval > TimeSpan.Zero);
        Assert.True(d.BackoffCoefficient >= 1.0);
        Assert.True(d.MaxRetryInterval >= d.FirstRetryInterval);
        Assert.Equal(policy.MaxAttempts, d.MaxNumberOfAttempts);
        for (int attempt = 2; attempt <= policy.MaxAttempts; attempt++)
        {
            var local = policy.DelayBeforeAttempt(attempt);
            var durable = d.DelayBeforeAttempt(attempt);
            // equal, except that Durable cannot wait zero: it waits its minimum instead
            Assert.True(local == durable || (local < DurableRetry.MinimumInterval && durable == DurableRetry.MinimumInterval),
                $"attempt {attempt}: local {local}, durable {durable}");
        }
    }

    // ------------------------------------------------------------------ activities

    private static (OrchestrationRegistry Registry, Dictionary<string, int> Calls) Registry(int failuresBeforeSuccess)
    {
        var calls = new Dictionary<string, int>();
        var registry = new OrchestrationRegistry()
            .AddActivity("Double", (input, _) =>
            {
                calls["Double"] = calls.GetValueOrDefault("Double") + 1;
                if (calls["Double"] <= failuresBeforeSuccess) throw new IOException("transient " + calls["Double"]);
                return Task.FromResult<object?>(input.GetInt32() * 2);
            })
            .AddOrchestrator("Child", async ctx => await ctx.CallActivityAsync<int>("Double", ctx.GetInput<int>()));
        return (registry, calls);
    }

    [Fact]
    public async Task AnActivityThatRecoversWithinItsRetriesReturnsItsResult()
    {
        var (registry, calls) = Registry(failuresBeforeSuccess: 2);
        var fake = new FakeDurableContext(registry, "run-1", null);
        var ctx = new DurableRunContext(fake, "Parent");
        Assert.Equal(42, await ctx.CallActivityAsync<int>("Double", 21, new RetryPolicy(3, TimeSpan.FromSeconds(1))));
        Assert.Equal(3, calls["Double"]);
        Assert.Equal(new[] { TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2) }, fake.ActivityAttempts.Select(a => a.Delay));
    }

    [Fact]
    public async Task AnActivityThatKeepsFailingThrowsActivityFailedExceptionWithTheLastError()
    {
        var (registry, _) = Registry(failuresBeforeSuccess: 10);
        var ctx = new DurableRunContext(new FakeDurableContext(registry, "run-1", null), "Parent");
        var e = await Assert.ThrowsAsync<ActivityFailedException>(() => ctx.CallActivityAsync<int>("Double", 1, new RetryPolicy(3, TimeSpan.FromSeconds(1))));
        Assert.Equal("Double", e.ActivityName);
        Assert.Equal("IOException", e.ErrorType); // Durable's full name, shortened as the local engine reports it
        Assert.Equal("transient 3", e.ErrorMessage);
        Assert.Equal(3, e.Attempts);

        var once = await Assert.ThrowsAsync<ActivityFailedException>(() => ctx.CallActivityAsync<int>("Double", 1));
        Assert.Equal(1, once.Attempts);
    }

    [Fact]
    public async Task NamesAreValidatedAsTheLocalEngineDoes()
    {
        var (registry, _) = Registry(0);
        var ctx = new DurableRunContext(new FakeDurableContext(registry, "run-1", null), "Parent");
        await Assert.ThrowsAsync<ArgumentException>(() => ctx.CallActivityAsync<int>("", 1));
        await Assert.ThrowsAsync<ArgumentException>(() => ctx.CallSubOrchestratorAsync<int>("Child", "", 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ctx.WaitForExternalEventAsync<int>("done", TimeSpan.FromSeconds(-1)));
    }

    // ------------------------------------------------------------------ sub-orchestrations

    [Fact]
    public async Task SubOrchestrationRetriesUseTheLocalEnginesInstanceIdsAndDelays()
    {
        var (registry, _) = Registry(0);
        var fake = new FakeDurableContext(registry, "run-1", null);
        fake.FailingInstances.UnionWith(["run-1-g0", "run-1-g0-retry2"]);
        var ctx = new DurableRunContext(fake, "Parent");
        var start = fake.CurrentUtcDateTime;
        var policy = new RetryPolicy(3, TimeSpan.FromSeconds(5), 2.0);

        Assert.Equal(14, await ctx.CallSubOrchestratorAsync<int>("Child", "run-1-g0", 7, policy));
        Assert.Equal(new[] { "run-1-g0", "run-1-g0-retry2", "run-1-g0-retry3" }, fake.SubOrchestrations);
        Assert.Equal(new[] { start + TimeSpan.FromSeconds(5), start + TimeSpan.FromSeconds(15) }, fake.Timers.Select(t => t.FireAt));
    }

    [Fact]
    public async Task ASubOrchestrationThatKeepsFailingThrowsOrchestrationFailedExceptionNamingTheLastInstance()
    {
        var (registry, _) = Registry(0);
        var fake = new FakeDurableContext(registry, "run-1", null);
        fake.FailingInstances.UnionWith(["run-1-g0", "run-1-g0-retry2"]);
        var ctx = new DurableRunContext(fake, "Parent");
        var e = await Assert.ThrowsAsync<OrchestrationFailedException>(() => ctx.CallSubOrchestratorAsync<int>("Child", "run-1-g0", 7, new RetryPolicy(2, TimeSpan.FromSeconds(1))));
        Assert.Equal("run-1-g0-retry2", e.InstanceId);
        Assert.Equal("Child", e.OrchestratorName);
        Assert.Contains("failed on purpose", e.ErrorMessage);
        // no retry policy: one attempt, as on the local engine
        fake.SubOrchestrations.Clear();
        await Assert.ThrowsAsync<OrchestrationFailedException>(() => ctx.CallSubOrchestratorAsync<int>("Child", "run-1-g0", 7));
        Assert.Equal(new[] { "run-1-g0" }, fake.SubOrchestrations);
    }

    // ------------------------------------------------------------------ events and timers

    [Fact]
    public async Task AnEventThatArrivedReturnsItsPayloadAndCancelsTheTimeoutTimer()
    {
        var fake = new FakeDurableContext(new OrchestrationRegistry(), "run-1", null);
        fake.Raise("inference-done-00001", new { shardIndex = 1, succeeded = 4 });
        var ctx = new DurableRunContext(fake, "Parent");
        var start = fake.CurrentUtcDateTime;
        var payload = await ctx.WaitForExternalEventAsync<JsonElement>("inference-done-00001", TimeSpan.FromMinutes(30));
        Assert.Equal(4, payload.GetProperty("succeeded").GetInt32());
        var timer = Assert.Single(fake.Timers);
        Assert.Equal(start + TimeSpan.FromMinutes(30), timer.FireAt);
        Assert.True(timer.Token.IsCancellationRequested, "the losing timer must be cancelled or the orchestration never completes");
    }

    [Fact]
    public async Task AnEventThatDoesNotArriveInTimeThrowsTimeoutException()
    {
        var fake = new FakeDurableContext(new OrchestrationRegistry(), "run-1", null);
        var ctx = new DurableRunContext(fake, "Parent");
        var e = await Assert.ThrowsAsync<TimeoutException>(() => ctx.WaitForExternalEventAsync<int>("inference-done-00002", TimeSpan.FromSeconds(90)));
        Assert.Contains("inference-done-00002", e.Message);
    }

    [Fact]
    public async Task AnInfiniteWaitCreatesNoTimer()
    {
        var fake = new FakeDurableContext(new OrchestrationRegistry(), "run-1", null);
        fake.Raise("go", 5);
        var ctx = new DurableRunContext(fake, "Parent");
        Assert.Equal(5, await ctx.WaitForExternalEventAsync<int>("go"));
        Assert.Empty(fake.Timers);
    }

    [Fact]
    public async Task ContextValuesPassThrough()
    {
        var fake = new FakeDurableContext(new OrchestrationRegistry(), "run-7", new { seed = 3 });
        var ctx = new DurableRunContext(fake, "AugmentationRun");
        Assert.Equal("run-7", ctx.InstanceId);
        Assert.Equal("AugmentationRun", ctx.Name);
        Assert.Equal(fake.CurrentUtcDateTime, ctx.CurrentUtcDateTime);
        Assert.Equal(3, ctx.GetInput<JsonElement>().GetProperty("seed").GetInt32());
        ctx.SetCustomStatus(new { stage = "plan" });
        Assert.NotNull(fake.CustomStatus);
        Assert.NotEqual(ctx.NewGuid(), ctx.NewGuid());
        await ctx.CreateTimer(fake.CurrentUtcDateTime.AddMinutes(1));
        Assert.Single(fake.Timers);
    }

    [Fact]
    public async Task RunAsyncDispatchesToTheRegisteredOrchestratorAndNamesAMissingOne()
    {
        var (registry, _) = Registry(0);
        var fake = new FakeDurableContext(registry, "run-2", 5);
        Assert.Equal(10, (int)(await DurableRunContext.RunAsync(registry, "Child", fake))!);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => DurableRunContext.RunAsync(registry, "Nope", fake));
        Assert.Contains("'Nope'", e.Message);
        var a = await Assert.ThrowsAsync<InvalidOperationException>(() => DurableActivities.RunAsync(registry, "Nope", default, CancellationToken.None));
        Assert.Contains("'Nope'", a.Message);
    }
}
