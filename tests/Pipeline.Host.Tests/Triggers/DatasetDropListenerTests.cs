using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Host.Triggers;
using Pipeline.Storage;
using Pipeline.Storage.Datasets;
using Pipeline.Tests.Shared;

namespace Pipeline.Host.Tests.Triggers;

public class DatasetDropListenerTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DatasetDropListenerOptions Fast => new()
    {
        PollInterval = TimeSpan.FromMilliseconds(200), Debounce = TimeSpan.FromSeconds(1),
        IngestRetryDelay = TimeSpan.FromMilliseconds(200), MaxReconnectDelay = TimeSpan.FromSeconds(1),
    };

    private DatasetDropListener NewListener(IDatasetIngestor ingestor) =>
        new(azurite.Storage, ingestor, Options.Create(Fast), NullLogger<DatasetDropListener>.Instance);

    [Fact]
    public async Task A_dropped_dataset_is_indexed_once_and_again_only_when_it_changes()
    {
        string name = "drop-" + Guid.NewGuid().ToString("N")[..8];
        var ds = azurite.Storage.Dataset(name);
        foreach (var f in new[] { "img/1.dcm", "img/2.dcm", "annotations.csv" })
            await ds.UploadAsync(f, new MemoryStream(RandomNumberGenerator.GetBytes(100)));

        var ingestor = new CountingIngestor(new DatasetIndexIngestor(azurite.Storage));
        var listener = NewListener(ingestor);
        await listener.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => ingestor.Count.GetValueOrDefault(name) == 1, "the first ingestion");
            var index = (await ds.ReadIndexAsync())!;
            Assert.Equal(["annotations.csv", "img/1.dcm", "img/2.dcm"], index.Files.Select(f => f.Path));

            // The index it wrote is not a change of the dataset: after several more polls and debounce periods, still once.
            await Task.Delay(Fast.Debounce * 3);
            Assert.Equal(1, ingestor.Count[name]);

            await ds.UploadAsync("img/3.dcm", new MemoryStream(RandomNumberGenerator.GetBytes(50)));
            await Eventually.TrueAsync(() => ingestor.Count.GetValueOrDefault(name) == 2, "the ingestion of the changed dataset");
            Assert.Equal(4, (await ds.ReadIndexAsync())!.FileCount);
        }
        finally { await listener.StopAsync(CancellationToken.None); }

        // A restarted host finds the index made from the current files (its metadata) and does not ingest again.
        var again = new CountingIngestor(new DatasetIndexIngestor(azurite.Storage));
        var restarted = NewListener(again);
        await restarted.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(Fast.Debounce * 3);
            Assert.False(again.Count.ContainsKey(name));
        }
        finally { await restarted.StopAsync(CancellationToken.None); }
    }

    [Fact]
    public async Task A_failing_ingestion_is_retried_and_does_not_stop_the_listener()
    {
        string bad = "fail-" + Guid.NewGuid().ToString("N")[..8], good = "ok-" + Guid.NewGuid().ToString("N")[..8];
        await azurite.Storage.Dataset(bad).UploadAsync("a.bin", new MemoryStream([1]));
        await azurite.Storage.Dataset(good).UploadAsync("a.bin", new MemoryStream([2]));
        var inner = new DatasetIndexIngestor(azurite.Storage);
        var attempts = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var ingestor = new DelegateIngestor(async (n, ct) =>
        {
            int k = attempts.AddOrUpdate(n, 1, (_, c) => c + 1);
            if (n == bad) throw new InvalidDataException($"{n}: broken file (attempt {k})");
            await inner.IngestAsync(n, ct);
        });
        var listener = NewListener(ingestor);
        await listener.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => attempts.GetValueOrDefault(bad) == Fast.MaxIngestAttempts, "every attempt at the bad dataset");
            await Eventually.TrueAsync(async () => await azurite.Storage.Dataset(good).ReadIndexAsync() is not null, "the good dataset's index");
            await Task.Delay(Fast.IngestRetryDelay * 40);
            Assert.Equal(Fast.MaxIngestAttempts, attempts[bad]); // gives up until the files change
            Assert.Null(await azurite.Storage.Dataset(bad).ReadIndexAsync());
        }
        finally { await listener.StopAsync(CancellationToken.None); }
    }

    private sealed class DelegateIngestor(Func<string, CancellationToken, Task> ingest) : IDatasetIngestor
    {
        public Task IngestAsync(string datasetName, CancellationToken cancellationToken) => ingest(datasetName, cancellationToken);
    }
}

public class DatasetDebouncerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    [Fact]
    public void A_dataset_is_due_once_it_has_been_quiet_for_the_debounce_period()
    {
        var d = new DatasetDebouncer(TimeSpan.FromSeconds(10), 3, TimeSpan.FromSeconds(5));
        d.Observe("a", "f1", null, At(0));
        Assert.Empty(d.Due(At(9)));
        d.Observe("a", "f2", null, At(9)); // still uploading: the quiet period starts again
        Assert.Empty(d.Due(At(18)));
        d.Observe("a", "f2", null, At(18));
        Assert.Equal([("a", "f2")], d.Due(At(19)));
        d.Succeeded("a", "f2");
        d.Observe("a", "f2", null, At(30));
        Assert.Empty(d.Due(At(100)));
    }

    [Fact]
    public void An_index_made_from_the_current_state_means_nothing_is_due()
    {
        var d = new DatasetDebouncer(TimeSpan.FromSeconds(10), 3, TimeSpan.FromSeconds(5));
        d.Observe("a", "f1", "f1", At(0));
        Assert.Empty(d.Due(At(100)));
        d.Observe("a", "f2", "f1", At(100));
        Assert.Empty(d.Due(At(105)));
        Assert.Single(d.Due(At(110)));
    }

    [Fact]
    public void Failures_back_off_and_stop_until_the_files_change()
    {
        var d = new DatasetDebouncer(TimeSpan.FromSeconds(1), 3, TimeSpan.FromSeconds(5));
        d.Observe("a", "f1", null, At(0));
        Assert.Single(d.Due(At(1)));
        Assert.True(d.Failed("a", At(1)));
        Assert.Empty(d.Due(At(5)));
        Assert.Single(d.Due(At(6)));   // first retry after 5 s
        Assert.True(d.Failed("a", At(6)));
        Assert.Empty(d.Due(At(15)));
        Assert.Single(d.Due(At(16)));  // then after 10 s
        Assert.False(d.Failed("a", At(16)));
        Assert.Empty(d.Due(At(1000))); // attempts used up
        d.Observe("a", "f2", null, At(1000));
        Assert.Single(d.Due(At(1001)));
    }

    [Fact]
    public void Datasets_that_disappear_are_forgotten()
    {
        var d = new DatasetDebouncer(TimeSpan.Zero, 3, TimeSpan.Zero);
        d.Observe("a", "f", null, At(0));
        d.Observe("b", "f", null, At(0));
        d.Retain(new HashSet<string> { "b" });
        Assert.Equal([("b", "f")], d.Due(At(1)));
    }
}
