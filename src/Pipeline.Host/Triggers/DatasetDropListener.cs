using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core.Contracts;
using Pipeline.Storage;

namespace Pipeline.Host.Triggers;

/// <summary>
/// The local host's blob-drop trigger on datasets/ (in Azure, a BlobTrigger or Event Grid function). Azurite has no
/// change feed, so it polls: each poll lists datasets/, fingerprints each dataset's blobs (names, sizes, ETags; the
/// _index.json it writes is left out) and, once a dataset has stopped changing for the debounce period, runs
/// <see cref="IDatasetIngestor"/> once for that state. The fingerprint is stored as metadata of _index.json, so a
/// restarted host does not ingest unchanged datasets again. Storage outages are waited out with backoff.
/// </summary>
public sealed class DatasetDropListener(
    PipelineStorage storage,
    IDatasetIngestor ingestor,
    IOptions<DatasetDropListenerOptions> options,
    ILogger<DatasetDropListener> logger,
    TimeProvider? time = null) : BackgroundService
{
    /// <summary>Metadata key on _index.json: the fingerprint of the dataset state the index was made from.</summary>
    public const string SourceFingerprintMetadataKey = "sourcefingerprint";

    private readonly DatasetDropListenerOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly HashSet<string> _reportedBadNames = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var debouncer = new DatasetDebouncer(_options.Debounce, _options.MaxIngestAttempts, _options.IngestRetryDelay);
        var backoff = new ReconnectBackoff(_options.MaxReconnectDelay, logger, "datasets/ listener");
        logger.LogInformation("Watching {Container}/ for new or changed datasets (poll {Poll}, debounce {Debounce})",
            StorageLayout.DatasetsContainer, _options.PollInterval, _options.Debounce);
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait = _options.PollInterval;
            try
            {
                await PollAsync(debouncer, stoppingToken).ConfigureAwait(false);
                backoff.Succeeded();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                wait = backoff.Failed(e);
            }
            try { await Task.Delay(wait, _time, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    private async Task PollAsync(DatasetDebouncer debouncer, CancellationToken cancellationToken)
    {
        var container = storage.BlobService.GetBlobContainerClient(StorageLayout.DatasetsContainer);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

        var blobs = new Dictionary<string, List<BlobItem>>(StringComparer.Ordinal);
        var indexFingerprints = new Dictionary<string, string?>(StringComparer.Ordinal);
        await foreach (var item in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, null, cancellationToken).ConfigureAwait(false))
        {
            int slash = item.Name.IndexOf('/');
            if (slash <= 0) continue; // a blob directly under datasets/ belongs to no dataset
            string dataset = item.Name[..slash];
            if (!ResourceNames.IsValidName(dataset))
            {
                if (_reportedBadNames.Add(dataset))
                    logger.LogWarning("Ignoring datasets/{Dataset}/: not a valid dataset name (letters, digits, '.', '_', '-')", dataset);
                continue;
            }
            if (item.Name.AsSpan(slash + 1).SequenceEqual(DatasetIndex.BlobName))
            {
                item.Metadata.TryGetValue(SourceFingerprintMetadataKey, out var fp);
                indexFingerprints[dataset] = fp;
                continue;
            }
            if (!blobs.TryGetValue(dataset, out var list)) blobs[dataset] = list = [];
            list.Add(item);
        }

        var now = _time.GetUtcNow();
        foreach (var (dataset, items) in blobs)
            debouncer.Observe(dataset, Fingerprint(items), indexFingerprints.GetValueOrDefault(dataset), now);
        debouncer.Retain(blobs.Keys.ToHashSet(StringComparer.Ordinal));

        foreach (var (dataset, fingerprint) in debouncer.Due(now))
        {
            try
            {
                logger.LogInformation("Ingesting dataset {Dataset}", dataset);
                await ingestor.IngestAsync(dataset, cancellationToken).ConfigureAwait(false);
                await MarkIndexAsync(dataset, fingerprint, cancellationToken).ConfigureAwait(false);
                debouncer.Succeeded(dataset, fingerprint);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (StorageErrors.IsUnavailable(e))
            {
                throw; // storage is down: the whole poll backs off and this dataset is tried again after it
            }
            catch (Exception e)
            {
                bool retry = debouncer.Failed(dataset, _time.GetUtcNow());
                logger.LogError(e, "Ingestion of dataset {Dataset} failed{Retry}", dataset,
                    retry ? "; retrying later" : $" {_options.MaxIngestAttempts} times; left until its files change");
            }
        }
    }

    /// <summary>Records on _index.json the dataset state it was made from (keeping the index's other metadata).</summary>
    private async Task MarkIndexAsync(string dataset, string fingerprint, CancellationToken cancellationToken)
    {
        var index = storage.Blob(storage.Dataset(dataset).IndexPath);
        var props = await index.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var metadata = new Dictionary<string, string>(props.Value.Metadata, StringComparer.OrdinalIgnoreCase)
        {
            [SourceFingerprintMetadataKey] = fingerprint,
        };
        await index.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = props.Value.ETag }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A hash of the dataset's blob names, sizes and ETags (any upload, replacement or deletion changes it).</summary>
    public static string Fingerprint(IEnumerable<BlobItem> items)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var i in items.OrderBy(i => i.Name, StringComparer.Ordinal))
            hash.AppendData(Encoding.UTF8.GetBytes($"{i.Name}\n{i.Properties.ContentLength}\n{i.Properties.ETag}\n"));
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }
}
