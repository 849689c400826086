using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Pipeline.Core.Contracts;
using Pipeline.Core.Orchestration;

namespace Pipeline.Host.Engine;

/// <summary>
/// The engine's state in blob storage. Layout in <see cref="DurableEngineOptions.ContainerName"/> (key = instance id with
/// '/' as '~'):
/// <code>
/// instances/{key}/instance.json          InstanceRecord (created if absent: scheduling is idempotent)
/// instances/{key}/log/{segment:D6}.jsonl checkpoint log, append blobs, one JSON line per record, batched appends
/// instances/{key}/events/{ticks}-{guid}  raised external events
/// instances/{key}/cancel.json            a cancel request
/// active/{key}                           unfinished instances; leased by the process running the instance
/// </code>
/// and {StatusContainerName}/{id}/status.json (RunStatus).
/// </summary>
public sealed class BlobCheckpointStore : ICheckpointStore
{
    /// <summary>Append blobs take at most 50,000 blocks; a writer moves to a new segment well before.</summary>
    internal const int MaxBlocksPerSegment = 40_000;

    private readonly BlobContainerClient _container;
    private readonly BlobContainerClient _statusContainer;

    public BlobCheckpointStore(DurableEngineOptions options)
    {
        options.Validate();
        var service = new BlobServiceClient(options.ConnectionString);
        _container = service.GetBlobContainerClient(options.ContainerName);
        _statusContainer = service.GetBlobContainerClient(options.StatusContainerName);
    }

    public BlobCheckpointStore(BlobContainerClient container, BlobContainerClient statusContainer)
    {
        _container = container; _statusContainer = statusContainer;
    }

    private static string InstancePrefix(string id) => $"instances/{InstanceIds.ToKey(id)}/";
    private static string InstanceBlob(string id) => InstancePrefix(id) + "instance.json";
    private static string LogPrefix(string id) => InstancePrefix(id) + "log/";
    private static string EventsPrefix(string id) => InstancePrefix(id) + "events/";
    private static string CancelBlob(string id) => InstancePrefix(id) + "cancel.json";
    private static string ActiveBlob(string id) => "active/" + InstanceIds.ToKey(id);

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await _statusContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryCreateInstanceAsync(InstanceRecord record, CancellationToken cancellationToken = default)
    {
        try
        {
            await _container.GetBlobClient(InstanceBlob(record.InstanceId)).UploadAsync(
                BinaryData.FromObjectAsJson(record, OrchestrationJson.Options),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All }, HttpHeaders = JsonHeaders },
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409 || e.ErrorCode == BlobErrorCode.BlobAlreadyExists)
        {
            return false;
        }
    }

    public async Task<InstanceRecord?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var data = await DownloadOrNullAsync(_container.GetBlobClient(InstanceBlob(instanceId)), cancellationToken).ConfigureAwait(false);
        if (data is null) return null;
        try { return data.ToObjectFromJson<InstanceRecord>(OrchestrationJson.Options); }
        catch (JsonException e) { throw new InvalidDataException($"Instance record of '{instanceId}' is not valid JSON: {e.Message}", e); }
    }

    public Task SaveInstanceAsync(InstanceRecord record, CancellationToken cancellationToken = default)
        => _container.GetBlobClient(InstanceBlob(record.InstanceId)).UploadAsync(
            BinaryData.FromObjectAsJson(record, OrchestrationJson.Options),
            new BlobUploadOptions { HttpHeaders = JsonHeaders }, cancellationToken);

    public Task WriteRunStatusAsync(RunStatus status, CancellationToken cancellationToken = default)
        => _statusContainer.GetBlobClient($"{status.RunId}/status.json").UploadAsync(
            BinaryData.FromObjectAsJson(status, PipelineJson.Options), // the contract's conventions (schemas/)
            new BlobUploadOptions { HttpHeaders = JsonHeaders }, cancellationToken);

    public async Task MarkActiveAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        try
        {
            await _container.GetBlobClient(ActiveBlob(instanceId)).UploadAsync(new BinaryData(Array.Empty<byte>()),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412) { } // already active (possibly leased by its runner)
    }

    public async IAsyncEnumerable<string> ListActiveAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "active/", cancellationToken).ConfigureAwait(false))
            yield return InstanceIds.FromKey(item.Name["active/".Length..]);
    }

    public async Task<IInstanceLease?> TryAcquireAsync(string instanceId, InstanceLeaseOwner owner, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var blob = _container.GetBlobClient(ActiveBlob(instanceId));
        var lease = blob.GetBlobLeaseClient();
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                await lease.AcquireAsync(duration, cancellationToken: cancellationToken).ConfigureAwait(false);
                await blob.SetMetadataAsync(new Dictionary<string, string>
                {
                    ["ownerhost"] = owner.Host,
                    ["ownerpid"] = owner.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["ownerstart"] = owner.ProcessStartTicks.ToString(System.Globalization.CultureInfo.InvariantCulture),
                }, new BlobRequestConditions { LeaseId = lease.LeaseId }, cancellationToken).ConfigureAwait(false);
                return new BlobInstanceLease(instanceId, blob, lease);
            }
            catch (RequestFailedException e) when (e.Status == 404) { return null; } // finished meanwhile
            catch (RequestFailedException e) when (e.Status == 409 && attempt == 0)
            {
                // Leased: take it over only when its owner is a process of this machine that no longer runs.
                var holder = await ReadOwnerAsync(blob, cancellationToken).ConfigureAwait(false);
                if (holder is null || !holder.IsDeadLocalProcess()) return null;
                try { await lease.BreakAsync(TimeSpan.Zero, cancellationToken: cancellationToken).ConfigureAwait(false); }
                catch (RequestFailedException be) when (be.Status is 404 or 409) { }
            }
            catch (RequestFailedException e) when (e.Status == 409) { return null; }
        }
        return null;
    }

    private static async Task<InstanceLeaseOwner?> ReadOwnerAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var md = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Metadata;
            if (md.TryGetValue("ownerhost", out var host) && md.TryGetValue("ownerpid", out var pid) && md.TryGetValue("ownerstart", out var start)
                && int.TryParse(pid, out int p) && long.TryParse(start, out long s))
                return new InstanceLeaseOwner(host, p, s);
        }
        catch (RequestFailedException e) when (e.Status == 404) { }
        return null;
    }

    public async IAsyncEnumerable<CheckpointRecord> ReadLogAsync(string instanceId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var segments = new List<string>();
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, LogPrefix(instanceId), cancellationToken).ConfigureAwait(false))
            segments.Add(item.Name);
        segments.Sort(StringComparer.Ordinal);
        foreach (var name in segments)
        {
            var content = (await _container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
            var bytes = content.ToMemory();
            int start = 0, lineNo = 0;
            while (start < bytes.Length)
            {
                int nl = bytes.Span[start..].IndexOf((byte)'\n');
                // Appends are atomic and always end in '\n'; a line without one is a format error.
                if (nl < 0) throw new InvalidDataException($"Checkpoint log {name} of '{instanceId}' ends without a newline at byte {start}.");
                lineNo++;
                if (nl > 0) yield return CheckpointRecord.Parse(bytes.Span.Slice(start, nl), $"{name} line {lineNo}");
                start += nl + 1;
            }
        }
    }

    public ICheckpointLogAppender OpenLogAppender(string instanceId) => new BlobLogAppender(_container, LogPrefix(instanceId));

    public async Task AddEventAsync(string instanceId, ExternalEventRecord externalEvent, CancellationToken cancellationToken = default)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("name", externalEvent.Name);
            w.WritePropertyName("payload");
            if (externalEvent.PayloadJson is null) w.WriteNullValue(); else w.WriteRawValue(externalEvent.PayloadJson);
            w.WriteEndObject();
        }
        ms.Position = 0;
        await _container.GetBlobClient(EventsPrefix(instanceId) + externalEvent.EventId).UploadAsync(ms,
            new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All }, HttpHeaders = JsonHeaders },
            cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ExternalEventRecord>> ListEventsAsync(string instanceId, Predicate<string>? skip = null, CancellationToken cancellationToken = default)
    {
        string prefix = EventsPrefix(instanceId);
        var names = new List<string>();
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
        {
            string id = item.Name[prefix.Length..];
            if (skip is null || !skip(id)) names.Add(id);
        }
        names.Sort(StringComparer.Ordinal);
        var events = new List<ExternalEventRecord>(names.Count);
        foreach (var id in names)
        {
            var data = await DownloadOrNullAsync(_container.GetBlobClient(prefix + id), cancellationToken).ConfigureAwait(false);
            if (data is null) continue;
            try
            {
                using var doc = JsonDocument.Parse(data);
                var name = doc.RootElement.GetProperty("name").GetString()!;
                string? payload = doc.RootElement.TryGetProperty("payload", out var p) && p.ValueKind != JsonValueKind.Null ? p.GetRawText() : null;
                events.Add(new ExternalEventRecord(id, name, payload));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"Event {id} of instance '{instanceId}' is not a valid event document: {e.Message}", e);
            }
        }
        return events;
    }

    public Task RequestCancelAsync(string instanceId, string reason, CancellationToken cancellationToken = default)
        => _container.GetBlobClient(CancelBlob(instanceId)).UploadAsync(BinaryData.FromObjectAsJson(new { reason }, OrchestrationJson.Options),
            new BlobUploadOptions { HttpHeaders = JsonHeaders }, cancellationToken);

    public async Task<string?> GetCancelRequestAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var data = await DownloadOrNullAsync(_container.GetBlobClient(CancelBlob(instanceId)), cancellationToken).ConfigureAwait(false);
        if (data is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(data);
            return doc.RootElement.TryGetProperty("reason", out var r) ? r.GetString() ?? "" : "";
        }
        catch (JsonException) { return "cancel requested"; }
    }

    private static readonly BlobHttpHeaders JsonHeaders = new() { ContentType = "application/json" };

    private static async Task<BinaryData?> DownloadOrNullAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try { return (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content; }
        catch (RequestFailedException e) when (e.Status == 404) { return null; }
    }

    private sealed class BlobInstanceLease(string instanceId, BlobClient blob, BlobLeaseClient lease) : IInstanceLease
    {
        private int _ended;
        public string InstanceId => instanceId;

        public Task RenewAsync(CancellationToken cancellationToken = default) => lease.RenewAsync(cancellationToken: cancellationToken);

        public async Task ReleaseAsync(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0) return;
            try { await lease.ReleaseAsync(cancellationToken: cancellationToken).ConfigureAwait(false); }
            catch (RequestFailedException e) when (e.Status is 404 or 409 or 412) { }
        }

        public async Task CompleteAsync(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0) return;
            try
            {
                await blob.DeleteAsync(DeleteSnapshotsOption.None, new BlobRequestConditions { LeaseId = lease.LeaseId }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 404) { }
        }

        public async ValueTask DisposeAsync() => await ReleaseAsync().ConfigureAwait(false);
    }

    /// <summary>Writes a new segment after the existing ones; checks the append position so that a second writer (or a
    /// retried append that had in fact landed) is noticed instead of duplicating or interleaving records.</summary>
    private sealed class BlobLogAppender(BlobContainerClient container, string prefix) : ICheckpointLogAppender
    {
        private AppendBlobClient? _segment;
        private int _segmentNumber = -1;
        private long _position;
        private int _blocks;

        public async Task AppendAsync(ReadOnlyMemory<byte> lines, CancellationToken cancellationToken = default)
        {
            if (lines.IsEmpty) return;
            if (_segment is null || _blocks >= MaxBlocksPerSegment)
            {
                if (_segmentNumber < 0)
                {
                    await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
                        if (int.TryParse(Path.GetFileNameWithoutExtension(item.Name.AsSpan(prefix.Length)), out int n))
                            _segmentNumber = Math.Max(_segmentNumber, n);
                }
                _segmentNumber++;
                _segment = container.GetAppendBlobClient($"{prefix}{_segmentNumber:D6}.jsonl");
                try
                {
                    await _segment.CreateAsync(new AppendBlobCreateOptions { Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All } },
                        cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException e) when (e.Status == 409)
                {
                    throw new InvalidOperationException($"Checkpoint log segment {_segment.Name} already exists: another process writes this instance's log.", e);
                }
                _position = 0; _blocks = 0;
            }
            var stream = MemoryMarshal.TryGetArray(lines, out var seg)
                ? new MemoryStream(seg.Array!, seg.Offset, seg.Count, writable: false)
                : new MemoryStream(lines.ToArray(), writable: false);
            try
            {
                await _segment.AppendBlockAsync(stream, new AppendBlobAppendBlockOptions
                {
                    Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = _position },
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.AppendPositionConditionNotMet)
            {
                // The client retries a timed-out append; if the first try landed, the blob is exactly one batch longer.
                long length = (await _segment.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ContentLength;
                if (length != _position + lines.Length)
                    throw new InvalidOperationException($"Checkpoint log segment {_segment.Name} is {length} bytes, expected {_position} or {_position + lines.Length}: another process writes this instance's log.", e);
            }
            _position += lines.Length;
            _blocks++;
        }
    }
}
