namespace Pipeline.Core.Contracts;

/// <summary>
/// One file of a dataset: its path relative to datasets/{name}/, size and content hash. <paramref name="ETag"/> is the
/// version of the blob the entry was computed from, and <paramref name="Image"/> what opening it found (validating
/// ingestion only): a later ingestion reuses both for an unchanged blob instead of reading it again.
/// </summary>
public sealed record DatasetFile(string Path, long Size, string Sha256, string? ContentType = null, string? ETag = null, DatasetImageFacts? Image = null);

/// <summary>
/// What opening an image found, independent of the annotations: its size and Presentation Intent, or why it cannot be
/// opened (<paramref name="OpenError"/>, then the size is 0 x 0).
/// </summary>
public sealed record DatasetImageFacts(int Width, int Height, bool ForProcessing = false, string? OpenError = null);

/// <summary>
/// The document at datasets/{name}/_index.json, written by ingestion (<see cref="IDatasetIngestor"/>): every file of the
/// dataset except the index itself, sorted by path (ordinal), so the same files always give the same bytes.
/// Ingestors that validate content add their findings to <see cref="Problems"/>.
/// </summary>
public sealed record DatasetIndex
{
    public const string BlobName = "_index.json";

    public int SchemaVersion { get; init; } = 1;
    public required string Dataset { get; init; }
    public required int FileCount { get; init; }
    public required long TotalBytes { get; init; }
    public required IReadOnlyList<DatasetFile> Files { get; init; }
    /// <summary>Problems found by validation (file path: message); empty when none or when the ingestor only indexes.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
    /// <summary>The validation settings the files' <see cref="DatasetFile.Image"/> facts were found with; facts are reused only under the same settings.</summary>
    public string? ValidatedWith { get; init; }
    /// <summary>The annotation format ingestion recognised (VinDrMammo, CbisDdsm, GenericCsv, GenericJson, DicomSeg), when any.</summary>
    public string? AnnotationFormat { get; init; }
    /// <summary>
    /// The findings of every usable image, resolved by ingestion (boxes of ROI masks and DICOM Segmentations included),
    /// one per finding and one without a box for an image without findings, in annotation order. Null from an ingestor
    /// that does not validate (the planner then parses the annotation file itself).
    /// </summary>
    public IReadOnlyList<DatasetFinding>? Findings { get; init; }

    /// <summary>Every file's path, in order (from a <see cref="DatasetFileList"/> without making the files' other fields).</summary>
    public IEnumerable<string> FilePaths() => Files is DatasetFileList list ? list.Paths() : Files.Select(f => f.Path);
}

/// <summary>
/// One finding of an image as ingestion resolved it: <see cref="Image"/> is the path relative to datasets/{name}/,
/// <see cref="Box"/> null for an image without findings. <see cref="Source"/> says where it came from
/// ("annotations.csv:12", "seg/a.dcm frame 1").
/// </summary>
public sealed record DatasetFinding(string Image, string ImageId, int Width, int Height, string? ClassName, BoundingBox? Box,
    string? Split = null, string? Laterality = null, string? View = null, string? Source = null);
