using System.Runtime.CompilerServices;
using Pipeline.Core.Contracts;
using Pipeline.Storage.Blobs;

namespace Pipeline.Storage;

/// <summary>
/// A dataset under datasets/{name}/. Runs only read it. A user adds files with <see cref="UploadAsync"/> (write-if-absent:
/// a dataset's files are never overwritten); ingestion replaces _index.json with <see cref="WriteIndexAsync"/>.
/// </summary>
public sealed class DatasetStore
{
    private readonly PipelineStorage _storage;

    internal DatasetStore(PipelineStorage storage, string name) { _storage = storage; Name = name; }

    public string Name { get; }

    public BlobPath Path(string relative) => BlobPath.Dataset(Name, relative);

    public BlobPath IndexPath => Path(DatasetIndex.BlobName);

    /// <summary>Adds a file (write-if-absent). Re-uploading identical content is a no-op (Written = false); different
    /// content under an existing name throws <see cref="BlobConflictException"/>. The name _index.json is reserved.</summary>
    public Task<WriteResult> UploadAsync(string relative, Stream content, string? contentType = null, CancellationToken cancellationToken = default)
    {
        if (relative == DatasetIndex.BlobName)
            throw new BlobWriteRefusedException(Path(relative), $"{DatasetIndex.BlobName} is written by ingestion only");
        return _storage.WriteIfAbsentCoreAsync(Path(relative), content, contentType, cancellationToken);
    }

    /// <summary>Replaces datasets/{name}/_index.json (the only blob of a dataset that is ever replaced). The JSON is
    /// serialised straight into the blob's blocks (the same bytes as <see cref="PipelineJson.SerializeToUtf8Bytes{T}"/>),
    /// so writing the index of a large dataset does not hold the document in memory.</summary>
    public Task<WriteResult> WriteIndexAsync(DatasetIndex index, CancellationToken cancellationToken = default)
    {
        if (index.Dataset != Name)
            throw new ArgumentException($"The index is of dataset '{index.Dataset}', not '{Name}'.", nameof(index));
        return _storage.OverwriteAsync(IndexPath, (stream, ct) => System.Text.Json.JsonSerializer.SerializeAsync(stream, index, PipelineJson.Options, ct),
            "application/json", cancellationToken);
    }

    /// <summary>datasets/{name}/_index.json, parsed as it downloads into compact lists (<see cref="DatasetIndexReader"/>);
    /// null when there is none.</summary>
    public async Task<DatasetIndex?> ReadIndexAsync(CancellationToken cancellationToken = default)
    {
        await using var stream = await _storage.OpenReadAsync(IndexPath, cancellationToken).ConfigureAwait(false);
        return stream is null ? null : await DatasetIndexReader.ReadAsync(stream, IndexPath.ToString(), cancellationToken).ConfigureAwait(false);
    }

    public Task<Stream?> OpenReadAsync(string relative, CancellationToken cancellationToken = default) =>
        _storage.OpenReadAsync(Path(relative), cancellationToken);

    public Task<BinaryData?> ReadAsync(string relative, CancellationToken cancellationToken = default) =>
        _storage.ReadAsync(Path(relative), cancellationToken);

    /// <summary>The dataset's files (every blob under datasets/{name}/ except _index.json), in listing order (by name).</summary>
    public async IAsyncEnumerable<BlobEntry> ListFilesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string indexName = IndexPath.Name;
        await foreach (var e in _storage.ListAsync(StorageLayout.DatasetsContainer, Name + "/", cancellationToken).ConfigureAwait(false))
            if (e.Path.Name != indexName) yield return e;
    }

    /// <summary>A path relative to the dataset folder for a listed blob of this dataset.</summary>
    public string RelativeName(BlobPath path) =>
        path.Container == StorageLayout.DatasetsContainer && path.Name.StartsWith(Name + "/", StringComparison.Ordinal)
            ? path.Name[(Name.Length + 1)..]
            : throw new ArgumentException($"{path} is not in dataset '{Name}'.", nameof(path));
}
