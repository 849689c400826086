using System.Runtime.CompilerServices;
using Pipeline.Imaging.Ingestion;
using Pipeline.Storage;

namespace Pipeline.Host.Ingestion;

/// <summary>A dataset under datasets/{name}/ in blob storage, for <see cref="DatasetIngestion"/>.</summary>
public sealed class BlobDatasetSource(PipelineStorage storage, string name) : IDatasetSource
{
    private readonly DatasetStore _dataset = storage.Dataset(name);

    public string Name => name;

    public async IAsyncEnumerable<DatasetSourceFile> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in _dataset.ListFilesAsync(cancellationToken).ConfigureAwait(false))
            yield return new DatasetSourceFile(_dataset.RelativeName(e.Path), e.Size, e.ETag.ToString());
    }

    /// <summary>The whole blob in one GET (ingestion reads every file whole; a streaming read costs a properties request first).</summary>
    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken) =>
        (await _dataset.ReadAsync(path, cancellationToken).ConfigureAwait(false))?.ToStream()
        ?? throw new FileNotFoundException($"datasets/{name}/{path} does not exist");
}
