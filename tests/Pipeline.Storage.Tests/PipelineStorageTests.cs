using Pipeline.Tests.Shared;
using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Pipeline.Core.Contracts;
using Pipeline.Storage.Blobs;
using Pipeline.Storage.Datasets;
using Pipeline.Storage.Queues;

namespace Pipeline.Storage.Tests;

public class PipelineStorageTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private readonly PipelineStorage _storage = azurite.Storage;

    private static string NewRunId() => "t-" + Guid.NewGuid().ToString("N")[..12];
    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    [Fact]
    public async Task Run_blobs_round_trip_with_their_hash_recorded()
    {
        var run = _storage.Run(NewRunId());
        var bytes = Encoding.UTF8.GetBytes("hello");
        var w = await run.WriteIfAbsentAsync("out/a.txt", new BinaryData(bytes));
        Assert.True(w.Written);
        Assert.Equal(Sha(bytes), w.Sha256);
        Assert.Equal($"runs/{run.RunId}/out/a.txt", w.Path.ToString());
        Assert.Equal(bytes, (await run.ReadAsync("out/a.txt"))!.ToArray());
        var listed = Assert.Single(await ToList(run.ListAsync("out/")));
        Assert.Equal(Sha(bytes), listed.Sha256);
        Assert.Equal(5, listed.Size);
        Assert.Equal("text/plain; charset=utf-8", listed.ContentType);
        Assert.Equal((Sha(bytes), 5L), ((await _storage.GetSha256Async(w.Path))!.Value.Sha256, (await _storage.GetSha256Async(w.Path))!.Value.Size));
    }

    [Fact]
    public async Task Missing_blobs_read_as_null()
    {
        var run = _storage.Run(NewRunId());
        Assert.Null(await run.ReadAsync("nothing"));
        Assert.Null(await run.OpenReadAsync("nothing"));
        Assert.Null(await run.ReadStatusAsync());
        Assert.Null(await _storage.GetSha256Async(run.Path("nothing")));
    }

    [Fact]
    public async Task Writing_the_same_content_twice_is_a_no_op_and_different_content_a_conflict()
    {
        var run = _storage.Run(NewRunId());
        var first = await run.WriteJsonIfAbsentAsync("plan.json", new { a = 1 });
        var again = await run.WriteJsonIfAbsentAsync("plan.json", new { a = 1 });
        Assert.True(first.Written);
        Assert.False(again.Written);
        Assert.Equal(first.Sha256, again.Sha256);
        var e = await Assert.ThrowsAsync<BlobConflictException>(() => run.WriteJsonIfAbsentAsync("plan.json", new { a = 2 }));
        Assert.Equal(first.Sha256, e.ExistingSha256);
        Assert.Contains($"runs/{run.RunId}/plan.json", e.Message);
        // the original is untouched
        Assert.Contains("\"a\": 1", (await run.ReadAsync("plan.json"))!.ToString());
    }

    [Fact]
    public async Task A_blob_written_by_someone_else_without_a_hash_is_compared_by_content()
    {
        var run = _storage.Run(NewRunId());
        var bytes = Encoding.UTF8.GetBytes("external");
        await _storage.Blob(run.Path("x.bin")).UploadAsync(new BinaryData(bytes)); // no sha256 metadata
        Assert.False((await run.WriteIfAbsentAsync("x.bin", new BinaryData(bytes))).Written);
        await Assert.ThrowsAsync<BlobConflictException>(() => run.WriteIfAbsentAsync("x.bin", new BinaryData(Encoding.UTF8.GetBytes("other"))));
    }

    [Fact]
    public async Task Concurrent_identical_writes_write_once()
    {
        var run = _storage.Run(NewRunId());
        var bytes = RandomNumberGenerator.GetBytes(1000);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => run.WriteIfAbsentAsync("same.bin", new BinaryData(bytes))));
        Assert.Equal(1, results.Count(r => r.Written));
        Assert.All(results, r => Assert.Equal(Sha(bytes), r.Sha256));
    }

    [Fact]
    public async Task Large_content_is_streamed_in_blocks_and_hashed_on_the_way()
    {
        var storage = new PipelineStorage(new PipelineStorageOptions
        {
            ConnectionString = azurite.Server.ConnectionString, BlockSize = 64 * 1024, SingleUploadThreshold = 64 * 1024,
        });
        var run = storage.Run(NewRunId());
        var bytes = RandomNumberGenerator.GetBytes(1_000_003); // 16 blocks, the last one partial
        var w = await run.WriteIfAbsentAsync("big.bin", new NonSeekableStream(bytes));
        Assert.True(w.Written);
        Assert.Equal(Sha(bytes), w.Sha256);
        Assert.Equal(bytes.Length, w.Size);
        var blocks = await storage.BlobService.GetBlobContainerClient("runs").GetBlockBlobClient(w.Path.Name).GetBlockListAsync();
        Assert.Equal(16, blocks.Value.CommittedBlocks.Count());
        await using (var read = (await run.OpenReadAsync("big.bin"))!)
        {
            Assert.Equal(Sha(bytes), Convert.ToHexStringLower(await SHA256.HashDataAsync(read)));
        }
        Assert.False((await run.WriteIfAbsentAsync("big.bin", new NonSeekableStream(bytes))).Written);
        bytes[500_000] ^= 1;
        await Assert.ThrowsAsync<BlobConflictException>(() => run.WriteIfAbsentAsync("big.bin", new NonSeekableStream(bytes)));
        var empty = await run.WriteIfAbsentAsync("empty.bin", new NonSeekableStream([]));
        Assert.Equal(Sha([]), empty.Sha256);
        Assert.Equal(0, (await run.ReadAsync("empty.bin"))!.ToArray().Length);
    }

    [Fact]
    public async Task Names_that_would_leave_the_run_prefix_are_rejected_before_any_request()
    {
        var run = _storage.Run(NewRunId());
        foreach (var bad in new[] { "../other/status.json", "/abs", "a\\b", "a/../../datasets/x" })
            await Assert.ThrowsAsync<InvalidBlobNameException>(() => run.WriteIfAbsentAsync(bad, new BinaryData("x")));
        Assert.Throws<ArgumentException>(() => _storage.Run("../x"));
        Assert.Throws<ArgumentException>(() => _storage.Dataset("a/b"));
    }

    [Fact]
    public async Task Runs_cannot_write_under_datasets()
    {
        var path = BlobPath.Dataset("d-" + Guid.NewGuid().ToString("N")[..8], "x.dcm");
        await Assert.ThrowsAsync<BlobWriteRefusedException>(() => _storage.WriteIfAbsentAsync(path, new BinaryData("x")));
        await Assert.ThrowsAsync<BlobWriteRefusedException>(() => _storage.UpdateJsonAsync<RunStatus>(path, _ => new RunStatus { RunId = "r", State = RunState.Pending }));
        await Assert.ThrowsAsync<BlobWriteRefusedException>(() => _storage.Dataset("d1").UploadAsync("_index.json", new MemoryStream([1])));
        Assert.False(await _storage.ExistsAsync(path));
    }

    [Fact]
    public async Task Status_updates_are_guarded_by_etags_so_concurrent_updates_all_count()
    {
        var run = _storage.Run(NewRunId());
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => run.UpdateStatusAsync(s => (s ?? new RunStatus
        {
            RunId = run.RunId, State = RunState.Running, Progress = new RunProgress(20, 0, 0),
        }) with { Progress = new RunProgress(20, (s?.Progress?.Completed ?? 0) + 1, 0) })));
        var status = await run.ReadStatusAsync();
        Assert.Equal(20, status!.Progress!.Completed);
        // returning null leaves the document as it is
        Assert.Equal(20, (await run.UpdateStatusAsync(_ => null))!.Progress!.Completed);
    }

    [Fact]
    public async Task Dataset_uploads_are_listed_and_indexed()
    {
        string name = "ds-" + Guid.NewGuid().ToString("N")[..8];
        var ds = _storage.Dataset(name);
        var files = new Dictionary<string, byte[]> { ["b/2.dcm"] = RandomNumberGenerator.GetBytes(300), ["a.json"] = Encoding.UTF8.GetBytes("{}"), ["b/1.dcm"] = RandomNumberGenerator.GetBytes(10) };
        foreach (var (rel, bytes) in files) Assert.True((await ds.UploadAsync(rel, new MemoryStream(bytes))).Written);
        Assert.False((await ds.UploadAsync("a.json", new MemoryStream(files["a.json"]))).Written);
        await Assert.ThrowsAsync<BlobConflictException>(() => ds.UploadAsync("a.json", new MemoryStream([1, 2])));
        // a file put by another tool, without a recorded hash, is hashed from its content
        var plain = RandomNumberGenerator.GetBytes(77);
        await _storage.Blob(ds.Path("c.png")).UploadAsync(new BinaryData(plain));
        files["c.png"] = plain;

        // a name this layout cannot address is left out of the index and reported
        await _storage.BlobService.GetBlobContainerClient("datasets").GetBlobClient($"{name}/scans /1.dcm").UploadAsync(new BinaryData([1]));

        await new DatasetIndexIngestor(_storage).IngestAsync(name, CancellationToken.None);
        var index = await ds.ReadIndexAsync();
        Assert.Equal("scans /1.dcm: left out, segment 'scans ' starts or ends with whitespace", Assert.Single(index!.Problems));
        Assert.NotNull(index);
        Assert.Equal(["a.json", "b/1.dcm", "b/2.dcm", "c.png"], index!.Files.Select(f => f.Path));
        foreach (var f in index.Files)
        {
            Assert.Equal(files[f.Path].Length, f.Size);
            Assert.Equal(Sha(files[f.Path]), f.Sha256);
        }
        Assert.Equal(4, index.FileCount);
        Assert.Equal(files.Values.Sum(b => b.Length), index.TotalBytes);
        // the index is not a file of the dataset, and re-indexing gives the same bytes
        Assert.Equal(4, (await ToList(ds.ListFilesAsync())).Count);
        var before = (await ds.ReadAsync("_index.json"))!.ToArray();
        await new DatasetIndexIngestor(_storage).IngestAsync(name, CancellationToken.None);
        Assert.Equal(before, (await ds.ReadAsync("_index.json"))!.ToArray());
        Assert.Contains(name, await ToList(_storage.ListTopLevelAsync(StorageLayout.DatasetsContainer)));
    }

    [Fact]
    public async Task Queue_messages_are_base64_and_plain_text_is_read_too()
    {
        var q = _storage.Queue(StorageLayout.InferenceRequestsQueue);
        await QueueMessages.SendAsync(q, Encoding.UTF8.GetBytes("{\"a\":1}"));
        await q.SendMessageAsync("{\"b\":2}");
        var received = (await q.ReceiveMessagesAsync(10)).Value;
        Assert.Equal(2, received.Length);
        Assert.Contains(received, m => m.Body.ToString() == Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"a\":1}")));
        Assert.Equal(["{\"a\":1}", "{\"b\":2}"], received.Select(m => Encoding.UTF8.GetString(QueueMessages.Decode(m))).Order());
        Assert.Throws<ArgumentException>(() => _storage.Queue("other"));
        await Assert.ThrowsAsync<ArgumentException>(() => QueueMessages.SendAsync(q, new byte[60_000]));
    }

    [Fact]
    public void A_bad_connection_string_is_reported_by_its_configuration_key()
    {
        var e = Assert.Throws<ArgumentException>(() => new PipelineStorage("not a connection string"));
        Assert.Contains("AzureWebJobsStorage", e.Message);
        Assert.NotNull(new PipelineStorage("UseDevelopmentStorage=true").BlobService.Uri);
    }

    private static async Task<List<T>> ToList<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var i in items) list.Add(i);
        return list;
    }

    /// <summary>A stream that cannot seek (like a network or pipe stream), so the block path is taken.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data, writable: false)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
    }
}
