using System.Collections.Concurrent;
using Pipeline.Core.Domains;
using Pipeline.Driving.NuScenes;
using Pipeline.Imaging.Ingestion;

namespace Pipeline.Driving.Runs;

/// <summary>
/// Reads a nuScenes-format dataset of blob storage ("datasets/{name}/") through a domain's <see cref="IBlobReader"/>:
/// the tables once per (prefix, version) and process (datasets are not modified by runs), key frames on demand.
/// </summary>
public sealed class DrivingDatasets
{
    private readonly ConcurrentDictionary<string, Lazy<Task<NuScenesDataset>>> _tables = new(StringComparer.Ordinal);

    /// <summary>The tables of the dataset at <paramref name="prefix"/> ("datasets/{name}/").</summary>
    public Task<NuScenesDataset> TablesAsync(IBlobReader blobs, string prefix, string version, CancellationToken cancellationToken) =>
        _tables.GetOrAdd($"{prefix}|{version}", _ => new Lazy<Task<NuScenesDataset>>(() => LoadAsync(blobs, prefix, version, cancellationToken))).Value;

    private static async Task<NuScenesDataset> LoadAsync(IBlobReader blobs, string prefix, string version, CancellationToken cancellationToken)
    {
        var db = await NuScenesDataset.LoadAsync(new BlobSource(blobs, prefix), version, cancellationToken).ConfigureAwait(false);
        if (db.LoadErrors.Count > 0)
            throw new InvalidDataException($"dataset {prefix}: {string.Join("; ", db.LoadErrors.Select(e => $"{e.File}: {e.Problem}"))}");
        return db;
    }

    /// <summary>One key frame (camera image and lidar sweep read from the blobs).</summary>
    public static Task<DrivingSample> FrameAsync(IBlobReader blobs, string prefix, NuScenesDataset db, string sampleToken, CancellationToken cancellationToken)
    {
        var sample = db.Samples.FirstOrDefault(s => s.Token == sampleToken) ?? throw new InvalidDataException($"sample {sampleToken} is not in the dataset");
        return DrivingSample.LoadAsync(async (file, ct) => await blobs.ReadAsync(prefix + file, ct).ConfigureAwait(false)
            ?? throw new FileNotFoundException($"{prefix}{file} does not exist (sample {sampleToken})"), db, sample, cancellationToken: cancellationToken);
    }

    private sealed class BlobSource(IBlobReader blobs, string prefix) : IDatasetSource
    {
        public string Name => prefix;

        public IAsyncEnumerable<DatasetSourceFile> ListAsync(CancellationToken cancellationToken) =>
            throw new NotSupportedException("the planner lists the dataset from its index; only reads go through this source");

        public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken) =>
            new MemoryStream(await blobs.ReadAsync(prefix + path, cancellationToken).ConfigureAwait(false) ?? throw new FileNotFoundException($"{prefix}{path} does not exist"));
    }
}
