using Pipeline.Core.Domains;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Host.Runs;

/// <summary>The domains' view of storage: blobs by full path ("datasets/{name}/...").</summary>
public sealed class StorageBlobReader(PipelineStorage storage) : IBlobReader
{
    public async Task<byte[]?> ReadAsync(string blobPath, CancellationToken cancellationToken) =>
        (await storage.ReadAsync(BlobPath.Parse(blobPath), cancellationToken).ConfigureAwait(false))?.ToArray();
}
