using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;
using Pipeline.Core.Contracts;
using Pipeline.Storage.Blobs;

namespace Pipeline.Storage;

/// <summary>
/// Typed access to the pipeline's storage account (blob layout in <see cref="StorageLayout"/>): validated names,
/// write-if-absent with SHA-256 recorded in blob metadata, ETag-conditional JSON updates, streaming reads and writes.
/// Thread-safe; one instance per process.
/// </summary>
public sealed class PipelineStorage
{
    private readonly PipelineStorageOptions _options;

    public PipelineStorage(PipelineStorageOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        Connection = options.Connection ?? StorageConnection.FromConnectionString(options.ConnectionString);
        var blobOptions = new BlobClientOptions();
        blobOptions.Retry.MaxRetries = options.MaxRetries;
        blobOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        queueOptions.Retry.MaxRetries = options.MaxRetries;
        queueOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        if (options.Transport is { } transport) { blobOptions.Transport = transport; queueOptions.Transport = transport; }
        if (Connection.Credential is { } credential)
        {
            // identity-based: the service endpoints with an Entra ID token (no account key anywhere)
            BlobService = new BlobServiceClient(Connection.BlobServiceUri, credential, blobOptions);
            QueueService = new QueueServiceClient(Connection.QueueServiceUri, credential, queueOptions);
            return;
        }
        try
        {
            BlobService = new BlobServiceClient(Connection.ConnectionString, blobOptions);
            QueueService = new QueueServiceClient(Connection.ConnectionString, queueOptions);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"The storage connection string ({PipelineStorageOptions.ConnectionStringKey}) cannot be read: {e.Message}", nameof(options), e);
        }
    }

    public PipelineStorage(string connectionString) : this(new PipelineStorageOptions { ConnectionString = connectionString }) { }

    /// <summary>How the account is reached (connection string or identity-based).</summary>
    public StorageConnection Connection { get; }
    public BlobServiceClient BlobService { get; }
    public QueueServiceClient QueueService { get; }
    public PipelineStorageOptions Options => _options;

    /// <summary>Creates the containers and queues of the layout when missing (idempotent).</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        foreach (var c in StorageLayout.Containers)
            await BlobService.GetBlobContainerClient(c).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var q in StorageLayout.Queues)
            await QueueService.GetQueueClient(q).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A client of one of the layout's queues (messages are written base64-encoded, as Functions expects;
    /// <see cref="Queues.QueueMessages"/> encodes and decodes).</summary>
    public QueueClient Queue(string name)
    {
        if (!StorageLayout.Queues.Contains(name))
            throw new ArgumentException($"Queue '{name}' is not one of {string.Join(", ", StorageLayout.Queues)}.", nameof(name));
        return QueueService.GetQueueClient(name);
    }

    public RunStore Run(string runId) => new(this, ResourceNames.CheckRunId(runId));

    public DatasetStore Dataset(string name) => new(this, ResourceNames.CheckName(name, "Dataset name"));

    public BlobClient Blob(BlobPath path) => BlobService.GetBlobContainerClient(path.Container).GetBlobClient(path.Name);

    // ---------------------------------------------------------------- writes

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> unless a blob is there (If-None-Match: *). Returns
    /// Written = false when the existing blob has the same SHA-256 (a repeated idempotent step); throws
    /// <see cref="BlobConflictException"/> when it differs. Content larger than the single-upload threshold is streamed
    /// in blocks and hashed on the way. Refuses paths under datasets/ (runs never write there).
    /// </summary>
    public Task<WriteResult> WriteIfAbsentAsync(BlobPath path, Stream content, string? contentType = null, CancellationToken cancellationToken = default)
    {
        RefuseDatasets(path);
        return WriteIfAbsentCoreAsync(path, content, contentType, cancellationToken);
    }

    public Task<WriteResult> WriteIfAbsentAsync(BlobPath path, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default)
    {
        RefuseDatasets(path);
        return content.ToMemory().Length <= _options.SingleUploadThreshold
            ? WriteIfAbsentCoreAsync(path, content.ToMemory(), contentType, cancellationToken) // in memory already: no copy
            : WriteIfAbsentCoreAsync(path, content.ToStream(), contentType, cancellationToken);
    }

    /// <summary>Serialises <paramref name="value"/> with <see cref="PipelineJson.Options"/> and writes it if absent.</summary>
    public Task<WriteResult> WriteJsonIfAbsentAsync<T>(BlobPath path, T value, CancellationToken cancellationToken = default) =>
        WriteIfAbsentAsync(path, new BinaryData(PipelineJson.SerializeToUtf8Bytes(value)), "application/json", cancellationToken);

    private static void RefuseDatasets(BlobPath path)
    {
        if (path.Container == StorageLayout.DatasetsContainer)
            throw new BlobWriteRefusedException(path, "datasets/ is read-only for runs (runs write under runs/{runId}/; only ingestion writes datasets/{name}/_index.json)");
    }

    internal async Task<WriteResult> WriteIfAbsentCoreAsync(BlobPath path, Stream content, string? contentType, CancellationToken cancellationToken)
    {
        var blob = BlobService.GetBlobContainerClient(path.Container).GetBlockBlobClient(path.Name);
        var headers = new BlobHttpHeaders { ContentType = contentType ?? ContentTypes.FromName(path.Name) };
        var ifAbsent = new BlobRequestConditions { IfNoneMatch = ETag.All };
        string? sha = null;
        long size;
        try
        {
            if (content.CanSeek && content.Length - content.Position <= _options.SingleUploadThreshold)
            {
                var bytes = new byte[content.Length - content.Position];
                await content.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                return await WriteIfAbsentCoreAsync(path, bytes, contentType, cancellationToken).ConfigureAwait(false);
            }
            (var blockIds, string streamedSha, size) = await StageBlocksAsync(blob, content, cancellationToken).ConfigureAwait(false);
            sha = streamedSha;
            var committed = await blob.CommitBlockListAsync(blockIds, new CommitBlockListOptions
            {
                Conditions = ifAbsent, HttpHeaders = headers, Metadata = ShaMetadata(sha),
            }, cancellationToken).ConfigureAwait(false);
            return new WriteResult(path, true, sha, size, committed.Value.ETag);
        }
        catch (RequestFailedException e) when (e.ErrorCode is "BlobAlreadyExists" or "ConditionNotMet" || e.Status is 409 or 412)
        {
            if (sha is null) throw;
            return await ExistingAsync(path, sha, e, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One upload of content already in memory (at most <see cref="PipelineStorageOptions.SingleUploadThreshold"/>), write-if-absent.</summary>
    private async Task<WriteResult> WriteIfAbsentCoreAsync(BlobPath path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken)
    {
        string sha = Convert.ToHexStringLower(SHA256.HashData(content.Span));
        try
        {
            var r = await Blob(path).UploadAsync(new BinaryData(content), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = contentType ?? ContentTypes.FromName(path.Name) },
                Metadata = ShaMetadata(sha),
            }, cancellationToken).ConfigureAwait(false);
            return new WriteResult(path, true, sha, content.Length, r.Value.ETag);
        }
        catch (RequestFailedException e) when (e.ErrorCode is "BlobAlreadyExists" or "ConditionNotMet" || e.Status is 409 or 412)
        {
            return await ExistingAsync(path, sha, e, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The write of <paramref name="sha"/> was refused because the blob exists: unchanged when it holds the same
    /// content (a repeated idempotent step), else <see cref="BlobConflictException"/>.</summary>
    private async Task<WriteResult> ExistingAsync(BlobPath path, string sha, RequestFailedException refused, CancellationToken cancellationToken)
    {
        var existing = await GetSha256Async(path, cancellationToken).ConfigureAwait(false)
                       ?? throw new IOException($"{path}: the write was refused as existing, but the blob is gone; retry.", refused);
        if (!string.Equals(existing.Sha256, sha, StringComparison.OrdinalIgnoreCase))
            throw new BlobConflictException(path, existing.Sha256, sha);
        return new WriteResult(path, false, sha, existing.Size, existing.ETag);
    }

    private async Task<(List<string> Ids, string Sha256, long Size)> StageBlocksAsync(BlockBlobClient blob, Stream content, CancellationToken cancellationToken)
    {
        await using var staging = new BlockStagingStream(blob, _options.BlockSize, cancellationToken);
        await content.CopyToAsync(staging, cancellationToken).ConfigureAwait(false); // an empty content commits an empty block list
        string sha = await staging.CompleteAsync().ConfigureAwait(false);
        return (staging.BlockIds, sha, staging.Length);
    }

    private static Dictionary<string, string> ShaMetadata(string sha) => new() { [StorageLayout.Sha256MetadataKey] = sha };

    /// <summary>Overwrites <paramref name="path"/> unconditionally (for documents that are replaced as a whole, such as
    /// datasets/{name}/_index.json) with what <paramref name="write"/> writes, staged in blocks as it is written (one block
    /// of memory however large the document) and committed at the end, with its SHA-256; internal so that only the
    /// layout's owners use it.</summary>
    internal async Task<WriteResult> OverwriteAsync(BlobPath path, Func<Stream, CancellationToken, Task> write, string? contentType, CancellationToken cancellationToken)
    {
        var blob = BlobService.GetBlobContainerClient(path.Container).GetBlockBlobClient(path.Name);
        await using var staging = new BlockStagingStream(blob, _options.BlockSize, cancellationToken);
        await write(staging, cancellationToken).ConfigureAwait(false);
        string sha = await staging.CompleteAsync().ConfigureAwait(false);
        var r = await blob.CommitBlockListAsync(staging.BlockIds, new CommitBlockListOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = contentType ?? ContentTypes.FromName(path.Name) },
            Metadata = ShaMetadata(sha),
        }, cancellationToken).ConfigureAwait(false);
        return new WriteResult(path, true, sha, staging.Length, r.Value.ETag);
    }

    // ---------------------------------------------------------------- JSON documents with ETags

    /// <summary>Reads and deserialises a JSON document with its ETag; null when the blob does not exist.</summary>
    public async Task<JsonBlob<T>?> ReadJsonAsync<T>(BlobPath path, CancellationToken cancellationToken = default)
    {
        try
        {
            var r = await Blob(path).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return new JsonBlob<T>(PipelineJson.Deserialize<T>(r.Value.Content.ToMemory().Span, path.ToString()), r.Value.Details.ETag);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// Read-modify-write of a JSON document guarded by its ETag (If-Match, or If-None-Match: * when absent): reads the
    /// current value (null when absent), applies <paramref name="update"/>, and writes the result only if nobody wrote in
    /// between; otherwise it reads again and re-applies. <paramref name="update"/> returns null to leave the document
    /// as it is. Returns the value now stored (null when absent and left so).
    /// </summary>
    public async Task<T?> UpdateJsonAsync<T>(BlobPath path, Func<T?, T?> update, CancellationToken cancellationToken = default) where T : class
    {
        RefuseDatasets(path);
        var blob = Blob(path);
        for (int attempt = 0; attempt < _options.MaxUpdateAttempts; attempt++)
        {
            var current = await ReadJsonAsync<T>(path, cancellationToken).ConfigureAwait(false);
            var next = update(current?.Value);
            if (next is null) return current?.Value;
            var bytes = PipelineJson.SerializeToUtf8Bytes(next);
            var conditions = current is null ? new BlobRequestConditions { IfNoneMatch = ETag.All } : new BlobRequestConditions { IfMatch = current.ETag };
            try
            {
                await blob.UploadAsync(new BinaryData(bytes), new BlobUploadOptions
                {
                    Conditions = conditions,
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                    Metadata = ShaMetadata(Convert.ToHexStringLower(SHA256.HashData(bytes))),
                }, cancellationToken).ConfigureAwait(false);
                return next;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // someone else wrote first: read their value and apply the update to it
            }
        }
        throw new BlobUpdateContentionException(path, _options.MaxUpdateAttempts);
    }

    // ---------------------------------------------------------------- reads

    /// <summary>
    /// The blob's content in memory; null when absent. Read into one array of the blob's length (the response's
    /// Content-Length), so a 2 MB image costs one 2 MB allocation and one copy, rather than a growing buffer's
    /// doublings and copies.
    /// </summary>
    public async Task<BinaryData?> ReadAsync(BlobPath path, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = (await Blob(path).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            await using var content = response.Content;
            long length = response.Details.ContentLength;
            if (length > Array.MaxLength) throw new IOException($"{path} is {length} bytes, too large to read into memory; stream it (OpenReadAsync)");
            var bytes = GC.AllocateUninitializedArray<byte>((int)length);
            await content.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            return new BinaryData(bytes);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>A stream that reads the blob in chunks (large blobs); null when absent. Fails if the blob changes while read.</summary>
    public async Task<Stream?> OpenReadAsync(BlobPath path, CancellationToken cancellationToken = default)
    {
        try
        {
            return await Blob(path).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<bool> ExistsAsync(BlobPath path, CancellationToken cancellationToken = default) =>
        (await Blob(path).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>SHA-256 (from metadata when recorded, else computed by streaming the content), size and ETag; null when absent.</summary>
    public async Task<(string Sha256, long Size, ETag ETag)?> GetSha256Async(BlobPath path, CancellationToken cancellationToken = default)
    {
        BlobProperties props;
        try
        {
            props = (await Blob(path).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        if (props.Metadata.TryGetValue(StorageLayout.Sha256MetadataKey, out var sha) && sha.Length == 64)
            return (sha.ToLowerInvariant(), props.ContentLength, props.ETag);
        await using var stream = await Blob(path).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = props.ETag } }, cancellationToken).ConfigureAwait(false);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return (Convert.ToHexStringLower(hash), props.ContentLength, props.ETag);
    }

    /// <summary>Every blob under <paramref name="prefix"/> of <paramref name="container"/> (flat listing), with metadata.</summary>
    public async IAsyncEnumerable<BlobEntry> ListAsync(string container, string? prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!StorageLayout.Containers.Contains(container))
            throw new ArgumentException($"Container '{container}' is not one of {string.Join(", ", StorageLayout.Containers)}.", nameof(container));
        var client = BlobService.GetBlobContainerClient(container);
        await foreach (var item in client.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
        {
            if (!BlobNames.IsValid(item.Name)) continue; // written by someone else with a name this layout cannot address
            item.Metadata.TryGetValue(StorageLayout.Sha256MetadataKey, out var sha);
            yield return new BlobEntry(new BlobPath(container, item.Name), item.Properties.ContentLength ?? 0,
                item.Properties.ETag ?? default, item.Properties.LastModified, sha, item.Properties.ContentType);
        }
    }

    /// <summary>Blobs under <paramref name="prefix"/> whose names this layout refuses (written by other tools, e.g. with
    /// a backslash or a trailing space), with the reason; <see cref="ListAsync"/> leaves them out.</summary>
    public async IAsyncEnumerable<(string Name, string Problem)> ListUnaddressableAsync(string container, string? prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var client = BlobService.GetBlobContainerClient(container);
        await foreach (var item in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
            if (BlobNames.FindProblem(item.Name) is { } problem) yield return (item.Name, problem);
    }

    /// <summary>The first-level "folders" of a container (e.g. dataset names, run ids), from a hierarchical listing.</summary>
    public async IAsyncEnumerable<string> ListTopLevelAsync(string container, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var client = BlobService.GetBlobContainerClient(container);
        await foreach (var item in client.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", null, cancellationToken).ConfigureAwait(false))
            if (item.IsPrefix) yield return item.Prefix.TrimEnd('/');
    }
}

/// <summary>Content types the pipeline writes, chosen by file extension.</summary>
public static class ContentTypes
{
    public static string FromName(string name) => Path.GetExtension(name).ToLowerInvariant() switch
    {
        ".json" => "application/json",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".dcm" => "application/dicom",
        ".html" => "text/html; charset=utf-8",
        ".csv" => "text/csv",
        ".txt" or ".log" => "text/plain; charset=utf-8",
        ".onnx" => "application/octet-stream",
        _ => "application/octet-stream",
    };
}
