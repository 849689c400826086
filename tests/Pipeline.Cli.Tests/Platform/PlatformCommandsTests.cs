using System.Security.Cryptography;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Storage;
using Pipeline.Storage.Azurite;
using Pipeline.Storage.Queues;
using Pipeline.Tests.Shared;

namespace Pipeline.Cli.Tests.Platform;

/// <summary>The CLI reads AzureWebJobsStorage from the environment (process-wide), so these tests run one at a time
/// against one in-memory Azurite.</summary>
[CollectionDefinition("cli-storage", DisableParallelization = true)]
public sealed class CliStorageCollection : ICollectionFixture<CliAzuriteFixture>;

/// <summary>The shared Azurite, named to the CLI through AzureWebJobsStorage (as a user's environment would).</summary>
public sealed class CliAzuriteFixture : AzuriteFixture
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Environment.SetEnvironmentVariable("AzureWebJobsStorage", ConnectionString);
    }

    public override Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("AzureWebJobsStorage", null);
        return base.DisposeAsync();
    }
}

[Collection("cli-storage")]
public class PlatformCommandsTests(CliAzuriteFixture azurite)
{
    private static Task<int> Run(params string[] args) => Program.BuildRoot().Parse(args).InvokeAsync();

    [Fact]
    public async Task Submit_enqueues_a_valid_request_built_from_flags()
    {
        int rc = await Run("submit", "--dataset", "mammo", "--mode", "replacement", "--target", "Mass=5", "--target", "Architectural Distortion=2",
            "--model", "models/mammo-tiny/1.0.0", "--scheduler", "dpmpp2m", "--steps", "20", "--seed", "9", "--metric", "ssim", "--metric", "fid",
            "--run-id", "run-cli-1");
        Assert.Equal(ExitCodes.Ok, rc);
        var q = azurite.Storage.Queue(StorageLayout.AugmentRequestsQueue);
        var m = (await q.ReceiveMessageAsync()).Value;
        Assert.NotNull(m);
        await q.DeleteMessageAsync(m.MessageId, m.PopReceipt);
        var parsed = AugmentationRequestValidator.Parse(QueueMessages.Decode(m));
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Problems));
        var r = parsed.Request!;
        Assert.Equal("run-cli-1", r.RunId);
        Assert.Equal(TaskMode.Replacement, r.Tasks[0].Mode);
        Assert.Equal(2, r.Tasks[0].Targets!["Architectural Distortion"]);
        Assert.Equal(SchedulerKind.Dpmpp2m, r.Sampler!.Scheduler);
        Assert.Equal([MetricKind.Ssim, MetricKind.Fid], r.Metrics);
        Assert.Equal(9, r.Seed);
    }

    [Fact]
    public async Task Submit_refuses_an_invalid_request_and_enqueues_nothing()
    {
        string file = Path.Combine(Path.GetTempPath(), $"req-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"schemaVersion":1,"dataset":"../x","tasks":[],"model":"models/a"}""");
        try
        {
            Assert.Equal(ExitCodes.Usage, await Run("submit", "--file", file));
            Assert.Equal(ExitCodes.Usage, await Run("submit", "--file", file, "--dataset", "x"));
            Assert.Equal(ExitCodes.Usage, await Run("submit", "--dataset", "d", "--count", "1"));          // no model
            Assert.Equal(ExitCodes.Usage, await Run("submit", "--dataset", "d", "--target", "Mass", "--model", "m"));
            Assert.Equal(ExitCodes.NotFound, await Run("submit", "--file", file + ".missing"));
            Assert.Null((await azurite.Storage.Queue(StorageLayout.AugmentRequestsQueue).PeekMessageAsync()).Value);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Dataset_upload_is_idempotent_and_reports_conflicts()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"ds-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        var big = RandomNumberGenerator.GetBytes(300_000);
        await File.WriteAllBytesAsync(Path.Combine(dir, "images", "1.dcm"), big);
        await File.WriteAllTextAsync(Path.Combine(dir, "annotations.csv"), "image,x0,y0,x1,y1\n");
        try
        {
            Assert.Equal(ExitCodes.Ok, await Run("dataset", "upload", dir, "cli-ds"));
            var ds = azurite.Storage.Dataset("cli-ds");
            var stored = await ds.ReadAsync("images/1.dcm");
            Assert.Equal(big, stored!.ToArray());
            Assert.Equal(ExitCodes.Ok, await Run("dataset", "upload", dir, "cli-ds"));
            await File.WriteAllTextAsync(Path.Combine(dir, "annotations.csv"), "changed\n");
            Assert.Equal(ExitCodes.Failures, await Run("dataset", "upload", dir, "cli-ds"));
            Assert.Equal("image,x0,y0,x1,y1\n", (await ds.ReadAsync("annotations.csv"))!.ToString());
            Assert.Equal(ExitCodes.Usage, await Run("dataset", "upload", dir, "../escape"));
            Assert.Equal(ExitCodes.NotFound, await Run("dataset", "upload", dir + "-missing", "x"));
            await File.WriteAllTextAsync(Path.Combine(dir, "_index.json"), "{}");
            Assert.Equal(ExitCodes.Usage, await Run("dataset", "upload", dir, "cli-ds2"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task Status_exit_codes_follow_the_run_state()
    {
        async Task Set(string id, RunState state) =>
            await azurite.Storage.Run(id).UpdateStatusAsync(_ => new RunStatus { RunId = id, State = state, Progress = new RunProgress(4, 3, 1), Error = state == RunState.Failed ? "boom" : null });
        await Set("run-done", RunState.Completed);
        await Set("run-bad", RunState.Failed);
        await Set("run-going", RunState.Running);
        Assert.Equal(ExitCodes.Ok, await Run("status", "run-done"));
        Assert.Equal(ExitCodes.Failures, await Run("status", "run-bad"));
        Assert.Equal(ExitCodes.Ok, await Run("status", "run-going", "--json"));
        Assert.Equal(ExitCodes.NotFound, await Run("status", "run-none"));
        Assert.Equal(ExitCodes.Usage, await Run("status", "../x"));
        Assert.Equal(ExitCodes.Ok, await Run("status", "run-done", "--watch", "--timeout", "30"));
        Assert.Equal(ExitCodes.Unavailable, await Run("status", "run-none", "--watch", "--timeout", "1"));
        Assert.Equal(ExitCodes.Ok, await Run("runs", "list"));
        Assert.Equal(ExitCodes.Ok, await Run("runs", "list", "--json"));
    }

    [Fact]
    public void Development_storage_is_recognised_and_real_accounts_are_not()
    {
        Assert.Equal((10000, 10001, 10002), DevelopmentStorage.LocalPorts("UseDevelopmentStorage=true"));
        Assert.Equal((azurite.Server.BlobPort, azurite.Server.QueuePort, azurite.Server.TablePort), DevelopmentStorage.LocalPorts(azurite.Server.ConnectionString));
        Assert.Null(DevelopmentStorage.LocalPorts("DefaultEndpointsProtocol=https;AccountName=prodacct;AccountKey=a2V5;EndpointSuffix=core.windows.net"));
        Assert.Null(DevelopmentStorage.LocalPorts($"AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=https://example.net/x;QueueEndpoint=https://example.net/y"));
    }
}
