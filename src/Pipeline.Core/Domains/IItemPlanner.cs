using Pipeline.Core.Contracts;

namespace Pipeline.Core.Domains;

/// <summary>The files of an ingested dataset as the planner sees them.</summary>
/// <param name="Name">The dataset's name (datasets/{name}/).</param>
/// <param name="BlobPrefix">"datasets/{name}/": prefix of every blob path of the dataset.</param>
/// <param name="Paths">Paths relative to the dataset root, as listed in its _index.json.</param>
/// <param name="Findings">The findings ingestion resolved and validated (<see cref="DatasetIndex.Findings"/>), when the
/// index has them: boxes from annotation files, ROI masks and DICOM Segmentations alike.</param>
public sealed record DatasetFiles(string Name, string BlobPrefix, IReadOnlySet<string> Paths, IReadOnlyList<DatasetFinding>? Findings = null);

/// <summary>
/// The planner's answer: items, shortfalls (asked for but not possible), problems that reject the request, and
/// warnings about the dataset (e.g. unreadable annotation rows) that the Plan activity logs.
/// </summary>
public sealed record PlannedItems(IReadOnlyList<WorkItem> Items, IReadOnlyList<string> Shortfalls, IReadOnlyList<string> Problems)
{
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>A rejection: no items, the reasons.</summary>
    public static PlannedItems Rejected(IReadOnlyList<string> problems) => new([], [], problems);
}

/// <summary>How a domain chooses a run's items from a dataset (deterministic in the request's seed).</summary>
public interface IItemPlanner
{
    /// <summary>Whether the dataset is of this domain (e.g. it has a mammography annotation file).</summary>
    bool Recognizes(DatasetFiles dataset);

    /// <summary>The items of the request; reads annotation files and images through <paramref name="blobs"/>.</summary>
    Task<PlannedItems> PlanAsync(AugmentationRequest request, DatasetFiles dataset, IBlobReader blobs, CancellationToken cancellationToken);
}
