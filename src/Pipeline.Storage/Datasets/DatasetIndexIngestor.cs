using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Contracts;

namespace Pipeline.Storage.Datasets;

/// <summary>
/// The default <see cref="IDatasetIngestor"/>: indexes a dataset without looking inside its files. Writes
/// datasets/{name}/_index.json with every file's relative path, size, SHA-256 (from the blob's metadata when recorded
/// at upload, else computed by streaming the content) and content type, sorted by path. Content validation (DICOM,
/// annotations) is the imaging ingestor's job, which replaces this one in DI.
/// </summary>
public sealed class DatasetIndexIngestor(PipelineStorage storage, ILogger<DatasetIndexIngestor>? logger = null) : IDatasetIngestor
{
    private readonly ILogger _logger = logger ?? NullLogger<DatasetIndexIngestor>.Instance;

    public async Task IngestAsync(string datasetName, CancellationToken cancellationToken)
    {
        var index = await BuildIndexAsync(datasetName, cancellationToken).ConfigureAwait(false);
        await storage.Dataset(datasetName).WriteIndexAsync(index, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Indexed dataset {Dataset}: {Files} files, {Bytes} bytes", datasetName, index.FileCount, index.TotalBytes);
    }

    /// <summary>The index of the dataset's current files (does not write it).</summary>
    public async Task<DatasetIndex> BuildIndexAsync(string datasetName, CancellationToken cancellationToken)
    {
        var dataset = storage.Dataset(datasetName);
        var files = new List<DatasetFile>();
        await foreach (var entry in dataset.ListFilesAsync(cancellationToken).ConfigureAwait(false))
        {
            string sha = entry.Sha256 is { Length: 64 } recorded
                ? recorded.ToLowerInvariant()
                : (await storage.GetSha256Async(entry.Path, cancellationToken).ConfigureAwait(false))?.Sha256
                  ?? throw new FileNotFoundException($"{entry.Path} disappeared while dataset '{datasetName}' was indexed; it is indexed again once it stops changing.");
            files.Add(new DatasetFile(dataset.RelativeName(entry.Path), entry.Size, sha, entry.ContentType));
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var problems = new List<string>();
        await foreach (var (name, problem) in storage.ListUnaddressableAsync(StorageLayout.DatasetsContainer, datasetName + "/", cancellationToken).ConfigureAwait(false))
            problems.Add($"{name[(datasetName.Length + 1)..]}: left out, {problem}");
        problems.Sort(StringComparer.Ordinal);
        return new DatasetIndex { Dataset = datasetName, FileCount = files.Count, TotalBytes = files.Sum(f => f.Size), Files = files, Problems = problems };
    }
}
