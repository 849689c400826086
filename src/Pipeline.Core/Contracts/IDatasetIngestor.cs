namespace Pipeline.Core.Contracts;

/// <summary>
/// Ingests a dataset that was dropped under datasets/{name}/: validates every file and writes
/// datasets/{name}/_index.json (the only file a run-independent process writes under datasets/).
/// Called by the blob-drop trigger (local host) or the BlobTrigger function (Azure).
/// </summary>
public interface IDatasetIngestor
{
    Task IngestAsync(string datasetName, CancellationToken cancellationToken);
}
