using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;
using Pipeline.Host.Engine;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.Engine;

public sealed class CheckpointRecordTests
{
    [Fact]
    public void ARecordRoundTripsThroughItsLogLine()
    {
        var record = new CheckpointRecord
        {
            Sequence = 42, Kind = CheckpointKind.Event, Name = "approval \"x\"", Fingerprint = "abc", TimestampTicks = 638_000_000_000_000_001,
            Failed = true, ResultJson = """{"a":[1,2,{"b":"\u00e9"}]}""", ErrorType = "IOException", ErrorMessage = "line1\nline2",
            Attempts = 3, EventId = "0001-ff", TimedOut = true,
        };
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer);
        record.WriteLine(buffer, writer);
        var bytes = buffer.WrittenSpan;
        Assert.Equal((byte)'\n', bytes[^1]);
        Assert.Equal(1, bytes.Count((byte)'\n'));

        var back = CheckpointRecord.Parse(bytes[..^1], "test");
        Assert.Equal(record.Sequence, back.Sequence);
        Assert.Equal(record.Kind, back.Kind);
        Assert.Equal(record.Name, back.Name);
        Assert.Equal(record.Fingerprint, back.Fingerprint);
        Assert.Equal(record.TimestampTicks, back.TimestampTicks);
        Assert.True(back.Failed);
        Assert.Equal(JsonDocument.Parse(record.ResultJson).RootElement.GetRawText(), back.ResultJson);
        Assert.Equal(record.ErrorType, back.ErrorType);
        Assert.Equal(record.ErrorMessage, back.ErrorMessage);
        Assert.Equal(3, back.Attempts);
        Assert.Equal(record.EventId, back.EventId);
        Assert.True(back.TimedOut);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"s":1,"k":9,"n":"x","t":1}""")]
    [InlineData("""{"k":0,"n":"x","t":1}""")]
    public void AGarbledLineIsRejectedNamingWhere(string line)
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointRecord.Parse(Encoding.UTF8.GetBytes(line), "log/000001.jsonl line 7"));
        Assert.Contains("log/000001.jsonl line 7", e.Message);
    }
}

public sealed class RetryPolicyTests
{
    [Fact]
    public void DelaysFollowTheBackoffAndTheCap()
    {
        var p = new RetryPolicy(5, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.Zero, p.DelayBeforeAttempt(1));
        Assert.Equal(TimeSpan.FromSeconds(1), p.DelayBeforeAttempt(2));
        Assert.Equal(TimeSpan.FromSeconds(2), p.DelayBeforeAttempt(3));
        Assert.Equal(TimeSpan.FromSeconds(3), p.DelayBeforeAttempt(4));
    }

    [Theory]
    [InlineData(0, 1, 2.0, "MaxAttempts")]
    [InlineData(2, -1, 2.0, "FirstRetryInterval")]
    [InlineData(2, 1, 0.5, "BackoffCoefficient")]
    public void BadPoliciesNameTheirField(int attempts, int firstSeconds, double backoff, string field)
    {
        var e = Assert.Throws<ArgumentException>(() => new RetryPolicy(attempts, TimeSpan.FromSeconds(firstSeconds), backoff).Validate());
        Assert.Contains(field, e.Message);
    }
}

public sealed class InstanceIdTests
{
    [Theory]
    [InlineData("run-1")]
    [InlineData("run-1/shard-3")]
    [InlineData("a:b.c_d")]
    public void ValidIdsPassAndMapToFlatKeys(string id)
    {
        InstanceIds.Validate(id);
        Assert.DoesNotContain('/', InstanceIds.ToKey(id));
        Assert.Equal(id, InstanceIds.FromKey(InstanceIds.ToKey(id)));
    }

    [Fact]
    public void TooLongIdsAreRejected() => Assert.Throws<ArgumentException>(() => InstanceIds.Validate(new string('a', 201)));

    [Fact]
    public void DuplicateRegistrationsAreRejectedNamingBoth()
    {
        var r = new OrchestrationRegistry().AddActivity("A", (_, _) => Task.FromResult<object?>(null));
        var e = Assert.Throws<ArgumentException>(() => r.AddActivity("A", (_, _) => Task.FromResult<object?>(null)));
        Assert.Contains("'A'", e.Message);
    }

    [Fact]
    public void OptionsValidationNamesTheSetting()
    {
        var e = Assert.Throws<ArgumentException>(() => new DurableEngineOptions { ConnectionString = "x", LeaseDuration = TimeSpan.FromSeconds(5) }.Validate());
        Assert.Contains("LeaseDuration", e.Message);
        Assert.Contains("ConnectionString", Assert.Throws<ArgumentException>(() => new DurableEngineOptions().Validate()).Message);
    }
}

[Collection(EngineCollection.Name)]
public sealed class EngineHostingTests(AzuriteFixture azurite)
{
    public sealed class Double : Activity<int, int>
    {
        public override Task<int> RunAsync(int input, CancellationToken cancellationToken) => Task.FromResult(input * 2);
    }

    public sealed class SumOfDoubles : Orchestrator<int[], int>
    {
        public override async Task<int> RunAsync(IRunContext context, int[] input)
            => (await Task.WhenAll(input.Select(i => context.CallActivityAsync<int>(nameof(Double), i)))).Sum();
    }

    [Fact]
    public void AddPipelineEngineReadsItsConfigurationSection()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Pipeline:Engine:ContainerName"] = "engine-from-config",
            ["Pipeline:Engine:ActivityConcurrency:Infer"] = "1",
            ["Pipeline:Engine:PollInterval"] = "00:00:02",
        }).Build();
        var services = Pipeline.Host.ServiceCollectionExtensions.AddPipelineEngine(new ServiceCollection().AddLogging(), configuration).AddActivity<Double>();
        using (var sp = services.BuildServiceProvider())
        {
            var options = sp.GetRequiredService<DurableEngineOptions>();
            Assert.Equal("engine-from-config", options.ContainerName);
            Assert.Equal(1, options.ActivityConcurrency["Infer"]);
            Assert.Equal(TimeSpan.FromSeconds(2), options.PollInterval);
            Assert.Equal(azurite.ConnectionString, options.ConnectionString);
            Assert.IsType<LocalOrchestrationClient>(sp.GetRequiredService<IOrchestrationClient>());
            Assert.Contains(sp.GetServices<IHostedService>(), h => h is DurableEngineWorker);
        }
    }

    [Fact]
    public async Task TheHostedWorkerRunsInstancesScheduledThroughTheInjectedClient()
    {
        var template = azurite.NewOptions();
        using var host = Microsoft.Extensions.Hosting.Host.CreateDefaultBuilder()
            .ConfigureServices(s => s
                .AddDurableEngine(o =>
                {
                    o.ConnectionString = template.ConnectionString;
                    o.ContainerName = template.ContainerName;
                    o.StatusContainerName = template.StatusContainerName;
                    o.PollInterval = template.PollInterval;
                })
                .AddOrchestrator<SumOfDoubles>()
                .AddActivity<Double>())
            .Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IOrchestrationClient>();
        Assert.True(await client.ScheduleNewAsync(nameof(SumOfDoubles), "hosted", new[] { 1, 2, 3 }));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var final = await client.WaitForCompletionAsync("hosted", cts.Token);
        Assert.Equal(RunState.Completed, final.State);
        Assert.Equal(12, final.ReadOutput<int>());
        await host.StopAsync();
    }
}
