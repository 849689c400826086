using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Cli.Commands;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host;
using Microsoft.Extensions.Options;
using Pipeline.Host.TaskHub;
using Pipeline.Host.Runs;
using Pipeline.Host.Triggers;
using System.Diagnostics;
using Xunit.Abstractions;

namespace Pipeline.EndToEnd.Tests;

/// <summary><c>pipeline serve --role control|gpu</c>: the two halves of the local host in separate processes.</summary>
[Collection(ServeProcessCollection.Name)]
public sealed class ServeRoleTests(RunFixture fixture, ITestOutputHelper output) : IClassFixture<RunFixture>
{
    private static async Task<(List<Type> Services, TaskHubOptions Engine)> HostedServicesAsync(ServeRole role)
    {
        var values = new Dictionary<string, string?> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" };
        foreach (var (k, v) in ServeCommand.RoleSettings(role)) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPipeline(configuration);
        await using var provider = services.BuildServiceProvider(); // the engine is IAsyncDisposable only
        Assert.NotNull(provider.GetService<IOrchestrationClient>()); // every role can start runs or raise events
        return (provider.GetServices<IHostedService>().Select(s => s.GetType()).ToList(), provider.GetRequiredService<IOptions<TaskHubOptions>>().Value);
    }

    [Fact]
    public async Task Each_role_registers_only_its_hosted_services()
    {
        var (all, allEngine) = await HostedServicesAsync(ServeRole.All);
        Assert.Contains(typeof(TaskHubWorkerService), all);
        Assert.True(allEngine.RunWorker);
        Assert.Contains(typeof(InferenceWorker), all);
        Assert.Contains(typeof(AugmentRequestListener), all);

        var (control, controlEngine) = await HostedServicesAsync(ServeRole.Control);
        Assert.Contains(typeof(TaskHubWorkerService), control);
        Assert.True(controlEngine.RunWorker);
        Assert.Contains(typeof(AugmentRequestListener), control);
        Assert.DoesNotContain(typeof(InferenceWorker), control);

        var (gpu, gpuEngine) = await HostedServicesAsync(ServeRole.Gpu);
        Assert.Contains(typeof(InferenceWorker), gpu);
        Assert.False(gpuEngine.RunWorker); // the engine only creates the task hub and serves the client: no orchestrations, no activities
        Assert.DoesNotContain(typeof(AugmentRequestListener), gpu);
        Assert.DoesNotContain(typeof(DatasetDropListener), gpu);
    }

    [Fact]
    public async Task A_control_process_and_a_separate_gpu_process_complete_a_run_together()
    {
        const string runId = "e2e-roles";
        var request = AugmentationRunTests.Request(runId, seed: 31);
        string cs = fixture.Azurite.ConnectionString;
        string cache = Path.Combine(Path.GetTempPath(), $"e2e-roles-cache-{Guid.NewGuid():N}");
        var client = RunStorage.Client(cs);
        using var gpu = ServeProcess.Start(cs, "gpu", cache);
        ServeProcess? control = null;
        try
        {
            await gpu.WaitRunningAsync(TimeSpan.FromMinutes(1));
            // the gpu role has no triggers: the request waits on the queue, no run is scheduled
            await RunStorage.SubmitAsync(cs, request);
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Null(await client.GetInstanceAsync(runId));

            control = ServeProcess.Start(cs, "control", cache);
            await control.WaitRunningAsync(TimeSpan.FromMinutes(1));
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            while (await client.GetInstanceAsync(runId, cts.Token) is null) await Task.Delay(200, cts.Token);
            var final = await client.WaitForCompletionAsync(runId, cts.Token);
            Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");
            Assert.True(await RunStorage.CountAsync(cs, runId, "out/images/") > 0, "no outputs written");

            // every shard was sampled by the gpu process, none by the control process
            var plan = (await new Pipeline.Storage.PipelineStorage(cs).Run(runId).ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
            int shards = plan.Shards.Count;
            Assert.Equal(shards, gpu.Lines.Count(l => l.Contains($"Run {runId} shard", StringComparison.Ordinal) && l.Contains("sampled", StringComparison.Ordinal)));
            Assert.DoesNotContain(control.Lines, l => l.Contains("sampled", StringComparison.Ordinal));
            Assert.Contains(control.Lines, l => l.Contains("running as role control", StringComparison.Ordinal));
            output.WriteLine($"{shards} shards sampled by the gpu process (pid {gpu.ProcessId}); run {final.State}");
        }
        catch
        {
            output.WriteLine("--- gpu ---\n" + gpu.Tail(100));
            if (control != null) output.WriteLine("--- control ---\n" + control.Tail(100));
            throw;
        }
        finally
        {
            control?.Dispose();
            try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
        }
    }
    [Fact]
    public async Task A_gpu_process_killed_while_sampling_has_its_shard_picked_up_by_another_within_its_visibility_timeout_with_default_settings()
    {
        const string runId = "e2e-gpu-kill";
        // many sampler steps: a shard samples for several seconds, so the kill lands mid-sampling
        var request = AugmentationRunTests.Request(runId, seed: 41) with
        {
            Sampler = new SamplerSettings { Scheduler = SchedulerKind.Ddim, Steps = 150, Guidance = 2.0 },
        };
        string cs = fixture.Azurite.ConnectionString;
        string cache = Path.Combine(Path.GetTempPath(), $"e2e-gpukill-cache-{Guid.NewGuid():N}");
        var client = RunStorage.Client(cs);
        // the worker's defaults (ServeProcess shortens them for the other tests)
        var defaults = new InferenceWorkerOptions();
        var settings = new Dictionary<string, string>
        {
            ["Pipeline:InferenceWorker:VisibilityTimeout"] = defaults.VisibilityTimeout.ToString(),
            ["Pipeline:InferenceWorker:VisibilityRenewInterval"] = defaults.VisibilityRenewInterval.ToString(),
        };
        using var control = ServeProcess.Start(cs, "control", cache, settings);
        using var gpu1 = ServeProcess.Start(cs, "gpu", cache, settings);
        ServeProcess? gpu2 = null;
        try
        {
            await Task.WhenAll(control.WaitRunningAsync(TimeSpan.FromMinutes(2)), gpu1.WaitRunningAsync(TimeSpan.FromMinutes(2)));
            await RunStorage.SubmitAsync(cs, request);
            // the sampler logs each pass: "Sampling K items of S shard(s) (run#shard, run#shard) in batches of up to B (N steps)"
            var shardsOfRun = new System.Text.RegularExpressions.Regex($@"(?<=[(, ]){System.Text.RegularExpressions.Regex.Escape(runId)}#(\d+)\b");
            string[] Sampling(string line) => line.Contains("Sampling ", StringComparison.Ordinal)
                ? shardsOfRun.Matches(line).Select(m => m.Groups[1].Value).ToArray() : [];
            string shard = "";
            await EventuallyAsync(() => (shard = gpu1.Lines.SelectMany(Sampling).FirstOrDefault() ?? "") != "", "gpu 1 to start sampling a shard", TimeSpan.FromMinutes(4));
            gpu1.Kill();
            var killed = Stopwatch.StartNew();
            Assert.DoesNotContain(gpu1.Lines, l => l.Contains($"Run {runId} shard {shard}: sampled", StringComparison.Ordinal)); // killed mid-sampling
            output.WriteLine($"gpu 1 (pid {gpu1.ProcessId}) killed while sampling shard {shard}");

            gpu2 = ServeProcess.Start(cs, "gpu", cache, settings);
            // the shard's message comes back when the dead worker's last visibility extension ends (at most
            // VisibilityTimeout after the kill): a generous bound on a loaded machine, far below the 10 minutes a
            // shard waited before the worker renewed a short visibility
            await EventuallyAsync(() => gpu2.Lines.Any(l => Sampling(l).Contains(shard)), $"gpu 2 to pick up shard {shard}", TimeSpan.FromMinutes(3));
            output.WriteLine($"shard {shard} picked up by gpu 2 (pid {gpu2.ProcessId}) {killed.Elapsed.TotalSeconds:F1} s after the kill (visibility timeout {defaults.VisibilityTimeout.TotalSeconds} s)");

            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(6));
            var final = await client.WaitForCompletionAsync(runId, cts.Token);
            Assert.True(final.State is RunState.Completed or RunState.CompletedWithFailures, $"run ended {final.State}: {final.Error}");
            Assert.Contains(gpu2.Lines, l => l.Contains($"Run {runId} shard {shard}: sampled", StringComparison.Ordinal));
            var plan = (await new Pipeline.Storage.PipelineStorage(cs).Run(runId).ReadJsonAsync<RunPlan>(RunBlobs.Plan))!.Value;
            Assert.Equal(plan.Shards.Count, await RunStorage.CountAsync(cs, runId, "gen/shard-")); // every shard sampled once
        }
        catch
        {
            output.WriteLine("--- control ---\n" + control.Tail(60));
            output.WriteLine("--- gpu 1 ---\n" + gpu1.Tail(60));
            if (gpu2 != null) output.WriteLine("--- gpu 2 ---\n" + gpu2.Tail(60));
            throw;
        }
        finally
        {
            gpu2?.Dispose();
            try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {timeout} waiting for {what}.");
            await Task.Delay(100);
        }
    }
}
