using System.Runtime.CompilerServices;
using Pipeline.Core.Contracts;
using Pipeline.Storage.Blobs;

namespace Pipeline.Storage;

/// <summary>
/// Everything one run reads and writes under runs/{runId}/: outputs are written once (write-if-absent, SHA-256
/// recorded), the status document is updated under its ETag. Relative names are validated, so nothing a run writes
/// can land outside its prefix.
/// </summary>
public sealed class RunStore
{
    private readonly PipelineStorage _storage;

    internal RunStore(PipelineStorage storage, string runId) { _storage = storage; RunId = runId; }

    public string RunId { get; }

    public BlobPath Path(string relative) => BlobPath.Run(RunId, relative);

    public BlobPath StatusPath => Path(StorageLayout.StatusBlob);

    public Task<WriteResult> WriteIfAbsentAsync(string relative, Stream content, string? contentType = null, CancellationToken cancellationToken = default) =>
        _storage.WriteIfAbsentAsync(Path(relative), content, contentType, cancellationToken);

    public Task<WriteResult> WriteIfAbsentAsync(string relative, BinaryData content, string? contentType = null, CancellationToken cancellationToken = default) =>
        _storage.WriteIfAbsentAsync(Path(relative), content, contentType, cancellationToken);

    public Task<WriteResult> WriteJsonIfAbsentAsync<T>(string relative, T value, CancellationToken cancellationToken = default) =>
        _storage.WriteJsonIfAbsentAsync(Path(relative), value, cancellationToken);

    public Task<BinaryData?> ReadAsync(string relative, CancellationToken cancellationToken = default) =>
        _storage.ReadAsync(Path(relative), cancellationToken);

    public Task<Stream?> OpenReadAsync(string relative, CancellationToken cancellationToken = default) =>
        _storage.OpenReadAsync(Path(relative), cancellationToken);

    public Task<JsonBlob<T>?> ReadJsonAsync<T>(string relative, CancellationToken cancellationToken = default) =>
        _storage.ReadJsonAsync<T>(Path(relative), cancellationToken);

    /// <summary>runs/{runId}/status.json, or null when the run has none yet.</summary>
    public async Task<RunStatus?> ReadStatusAsync(CancellationToken cancellationToken = default) =>
        (await _storage.ReadJsonAsync<RunStatus>(StatusPath, cancellationToken).ConfigureAwait(false))?.Value;

    /// <summary>ETag-guarded read-modify-write of status.json (see <see cref="PipelineStorage.UpdateJsonAsync{T}"/>).</summary>
    public Task<RunStatus?> UpdateStatusAsync(Func<RunStatus?, RunStatus?> update, CancellationToken cancellationToken = default) =>
        _storage.UpdateJsonAsync(StatusPath, update, cancellationToken);

    /// <summary>Blobs of this run under <paramref name="relativePrefix"/> (all when null).</summary>
    public async IAsyncEnumerable<BlobEntry> ListAsync(string? relativePrefix = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // a prefix may end with '/' (a folder); the rest of it must be a valid name
        string prefix = relativePrefix is null ? RunId + "/"
            : Path(relativePrefix.TrimEnd('/')).Name + (relativePrefix.EndsWith('/') ? "/" : "");
        await foreach (var e in _storage.ListAsync(StorageLayout.RunsContainer, prefix, cancellationToken).ConfigureAwait(false))
            yield return e;
    }
}
