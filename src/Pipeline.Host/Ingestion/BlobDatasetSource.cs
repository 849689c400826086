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

    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken) =>
        await _dataset.OpenReadAsync(path, cancellationToken).ConfigureAwait(false)
        ?? throw new FileNotFoundException($"datasets/{name}/{path} does not exist");
}
