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
/// Options come from the Pipeline:Ingestion section (e.g. Pipeline:Ingestion:Limits:MaxFramePixels).
/// </summary>
public sealed class ValidatingDatasetIngestor(PipelineStorage storage, ILogger<ValidatingDatasetIngestor>? logger = null,
    IOptions<DatasetIngestionOptions>? options = null) : IDatasetIngestor
{
    public async Task IngestAsync(string datasetName, CancellationToken cancellationToken)
    {
        var source = new BlobDatasetSource(storage, datasetName);
        // a nuScenes-format dataset (driving scenes) is recognised by its version folder; anything else is an imaging dataset
        var result = await NuScenesIngestion.TryRunAsync(source, cancellationToken: cancellationToken).ConfigureAwait(false)
                     ?? await DatasetIngestion.RunAsync(source, options?.Value, cancellationToken: cancellationToken).ConfigureAwait(false);
        var dataset = storage.Dataset(datasetName);
        await dataset.WriteIndexAsync(result.Index, cancellationToken).ConfigureAwait(false);
        logger?.LogInformation("Dataset {Dataset}: {Files} files, {Valid}/{Referenced} images valid, {Findings} findings, {Errors} problems",
            datasetName, result.Report.Files, result.Report.ValidImages, result.Report.ReferencedImages, result.Report.Findings, result.Report.Errors.Count);
    }
}
