using Pipeline.Core.Contracts;

namespace Pipeline.Imaging.Ingestion;

/// <summary>
/// What every ingestion (image datasets, <see cref="DatasetIngestion"/>; driving scenes, Pipeline.Driving's nuScenes
/// ingestion) does with a dataset's files before it knows their format: list them without the files ingestion writes
/// itself, in path order, and read one whole, turning a file that cannot be read into an error naming it.
/// </summary>
public static class DatasetSourceReads
{
    /// <summary>Files ingestion writes into the dataset folder (the index, the validation report): never dataset files.</summary>
    public static readonly IReadOnlySet<string> Generated = new HashSet<string>(StringComparer.Ordinal) { DatasetIndex.BlobName, DatasetValidationReport.BlobName };

    /// <summary>The dataset's files without <see cref="Generated"/>, sorted by path (ordinal).</summary>
    public static async Task<List<DatasetSourceFile>> ListDatasetFilesAsync(this IDatasetSource source, CancellationToken cancellationToken)
    {
        var files = new List<DatasetSourceFile>();
        await foreach (var f in source.ListAsync(cancellationToken).ConfigureAwait(false))
            if (!Generated.Contains(f.Path)) files.Add(f);
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    /// <summary>The file's bytes; null when it cannot be read, with "cannot be read: ..." for the file in <paramref name="errors"/>.</summary>
    public static async Task<byte[]?> TryReadAllBytesAsync(this IDatasetSource source, string path, ICollection<DatasetFileError> errors, CancellationToken cancellationToken)
    {
        try
        {
            await using var s = await source.OpenReadAsync(path, cancellationToken).ConfigureAwait(false);
            if (s.CanSeek)
            {
                // a file, or a blob already in memory: one array of its length, one copy
                var bytes = GC.AllocateUninitializedArray<byte>(checked((int)(s.Length - s.Position)));
                await s.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                return bytes;
            }
            using var ms = new MemoryStream();
            await s.CopyToAsync(ms, cancellationToken).ConfigureAwait(false);
            return ms.ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add(new DatasetFileError(path, "cannot be read: " + ex.Message));
            return null;
        }
    }
}
