using Azure;

namespace Pipeline.Storage.Blobs;

/// <summary>The outcome of a write-if-absent: whether this call wrote the blob (false: identical content was already
/// there), and the content's SHA-256 and size.</summary>
public sealed record WriteResult(BlobPath Path, bool Written, string Sha256, long Size, ETag ETag);

/// <summary>A listed blob.</summary>
public sealed record BlobEntry(BlobPath Path, long Size, ETag ETag, DateTimeOffset? LastModified, string? Sha256, string? ContentType);

/// <summary>A JSON document read with the ETag to make a conditional update against.</summary>
public sealed record JsonBlob<T>(T Value, ETag ETag);

/// <summary>A write-if-absent found the blob already there with different content: the output of an idempotent step
/// must be the same every time, so this is a bug or a name collision, never something to overwrite.</summary>
public sealed class BlobConflictException(BlobPath path, string existingSha256, string newSha256)
    : InvalidOperationException($"{path} already exists with different content (existing sha256 {existingSha256}, new {newSha256}); outputs are written once and never overwritten.")
{
    public BlobPath Path { get; } = path;
    public string ExistingSha256 { get; } = existingSha256;
    public string NewSha256 { get; } = newSha256;
}

/// <summary>A write the storage layout does not allow (e.g. a run writing under datasets/).</summary>
public sealed class BlobWriteRefusedException(BlobPath path, string reason)
    : InvalidOperationException($"Writing {path} is refused: {reason}.")
{
    public BlobPath Path { get; } = path;
}

/// <summary>A conditional update lost the race too many times in a row.</summary>
public sealed class BlobUpdateContentionException(BlobPath path, int attempts)
    : InvalidOperationException($"{path} changed under {attempts} consecutive conditional updates; giving up.")
{
    public BlobPath Path { get; } = path;
}
