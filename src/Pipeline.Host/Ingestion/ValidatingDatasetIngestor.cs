using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Driving.Ingestion;
using Pipeline.Imaging.Ingestion;
using Pipeline.Storage;

namespace Pipeline.Host.Ingestion;

/// <summary>
/// The ingestion the blob-drop trigger runs: <see cref="NuScenesIngestion"/> for nuScenes-format driving datasets
/// (docs/driving.md), otherwise <see cref="DatasetIngestion"/> over the dataset's blobs (every file hashed,
/// the annotation file parsed, every referenced image decoded and checked against its annotated size and boxes), then
/// datasets/{name}/_index.json with every problem found. Unreadable files are listed, never fatal. _index.json is the
/// only blob ever written under datasets/ (the blob-drop trigger ignores it, so writing it does not re-trigger
/// ingestion); the full validation report (class counts, box statistics) is `pipeline dataset validate`'s output.
/// Files whose ETag and size match the previous _index.json are not read again: their hash and image facts are reused
/// (incremental validation), so re-ingesting after one file changed reads that file and the annotation file.
/// Options come from the Pipeline:Ingestion section (e.g. Pipeline:Ingestion:Limits:MaxFramePixels).
/// </summary>
public sealed class ValidatingDatasetIngestor(PipelineStorage storage, ILogger<ValidatingDatasetIngestor>? logger = null,
    IOptions<DatasetIngestionOptions>? options = null) : IDatasetIngestor
{
    public Task IngestAsync(string datasetName, CancellationToken cancellationToken) => IngestAndReportAsync(datasetName, cancellationToken);

    /// <summary><see cref="IngestAsync"/>, returning what ingestion found (and how many files it did not need to read again).</summary>
    public async Task<DatasetIngestionResult> IngestAndReportAsync(string datasetName, CancellationToken cancellationToken)
    {
        var source = new BlobDatasetSource(storage, datasetName);
        var dataset = storage.Dataset(datasetName);
        // a nuScenes-format dataset (driving scenes) is recognised by its version folder; anything else is an imaging dataset
        var result = await NuScenesIngestion.TryRunAsync(source, cancellationToken: cancellationToken).ConfigureAwait(false)
                     ?? await DatasetIngestion.RunAsync(source, options?.Value, previous: await PreviousIndexAsync(dataset, datasetName, cancellationToken).ConfigureAwait(false),
                         cancellationToken: cancellationToken).ConfigureAwait(false);
        await dataset.WriteIndexAsync(result.Index, cancellationToken).ConfigureAwait(false);
        logger?.LogInformation("Dataset {Dataset}: {Files} files ({Reused} unchanged since the last index, not read again), {Valid}/{Referenced} images valid, {Findings} findings, {Errors} problems",
            datasetName, result.Report.Files, result.ReusedFiles, result.Report.ValidImages, result.Report.ReferencedImages, result.Report.Findings, result.Report.Errors.Count);
        return result;
    }

    /// <summary>The index the last ingestion wrote, whose per-file results are reused for unchanged blobs; null when absent or unreadable.</summary>
    private async Task<DatasetIndex?> PreviousIndexAsync(DatasetStore dataset, string datasetName, CancellationToken cancellationToken)
    {
        try
        {
            return await dataset.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException ex)
        {
            logger?.LogWarning("Dataset {Dataset}: the previous _index.json cannot be read ({Problem}); every file is validated again", datasetName, ex.Message);
            return null;
        }
    }
}
