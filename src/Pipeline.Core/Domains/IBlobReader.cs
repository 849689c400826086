namespace Pipeline.Core.Domains;

/// <summary>Reads blobs for a domain (dataset images and annotation files) by full blob path ("datasets/{name}/...").</summary>
/// <remarks>Implementations are called concurrently (a planner reads several images at a time).</remarks>
public interface IBlobReader
{
    /// <summary>The blob's content, or null when it does not exist.</summary>
    Task<byte[]?> ReadAsync(string blobPath, CancellationToken cancellationToken);
}
