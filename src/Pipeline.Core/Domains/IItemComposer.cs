using Pipeline.Core.Contracts;

namespace Pipeline.Core.Domains;

/// <summary>What Compose hands a domain for one item.</summary>
/// <param name="RunId">The run (output UIDs derive from it, so a rerun writes the same bytes).</param>
/// <param name="Item">The planned item.</param>
/// <param name="Source">The target image's bytes as stored in the dataset.</param>
/// <param name="Sample">The generated crop (model space, <see cref="ModelTensorNames.Sample"/>).</param>
/// <param name="Geometry">The crop geometry from Preprocess.</param>
/// <param name="Lineage">The sample's lineage (written into the output where the format allows).</param>
/// <param name="Deidentify">Whether identifying attributes of the source are replaced in the output.</param>
/// <param name="Format">The request's output.format.</param>
public sealed record ComposeInput(string RunId, WorkItem Item, ReadOnlyMemory<byte> Source, float[] Sample, CropGeometry Geometry, Lineage Lineage, bool Deidentify,
    OutputFormat Format = OutputFormat.Same);

/// <summary>An output file: its bytes and content type, and files written beside it (<see cref="ComposedSidecar"/>).</summary>
public sealed record ComposedFile(byte[] Content, string ContentType)
{
    /// <summary>How the output is encoded, in words (format, bit depth, lossy or not), recorded in the lineage
    /// (<see cref="Lineage.OutputEncoding"/>); null when the domain does not say.</summary>
    public string? Encoding { get; init; }
    public IReadOnlyList<ComposedSidecar> Sidecars { get; init; } = [];
    /// <summary>Metrics only the full-resolution output shows (for mammography the texture measure of the output and of the
    /// untouched source at the box), merged into the item's metrics by Measure; keys as <see cref="IItemMeasurer"/>'s.</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
}

/// <summary>A file written beside an item's output: runs/{id}/out/images/{item}{Suffix} (e.g. ".seg.dcm").</summary>
public sealed record ComposedSidecar(string Suffix, byte[] Content, string ContentType);

/// <summary>How a domain writes its outputs in the dataset's own format.</summary>
public interface IItemComposer
{
    /// <summary>The file extension of the item's output image (".dcm", ".png", ".jpg") for the request's output format, chosen
    /// before composing so that the lineage written into the output can name the output blob.</summary>
    string OutputExtension(WorkItem item, OutputFormat format);

    /// <summary>The augmented output: the sample pasted back into the full-resolution target (and files beside it).
    /// Reads any other file it needs (e.g. the lidar sweep of a driving sample) through <paramref name="blobs"/>.</summary>
    Task<ComposedFile> ComposeAsync(ComposeInput input, IBlobReader blobs, CancellationToken cancellationToken);

    /// <summary>The augmented dataset's annotation files under runs/{id}/out/ (mammography: one CSV row per kept item;
    /// driving: the nuScenes tables of the edited samples). The first file is the one the report names.</summary>
    /// <param name="planned">Every planned item, in plan order.</param>
    /// <param name="results">Final item results by item id.</param>
    /// <param name="lineages">Lineage of every composed item by item id.</param>
    Task<IReadOnlyList<OutputFile>> AnnotationsAsync(IReadOnlyList<WorkItem> planned, IReadOnlyDictionary<string, ItemResult> results,
        IReadOnlyDictionary<string, Lineage> lineages, IBlobReader blobs, CancellationToken cancellationToken);
}

/// <summary>A file of the augmented dataset, at runs/{id}/out/{Path}.</summary>
public sealed record OutputFile(string Path, byte[] Content, string ContentType);

/// <summary>A picture of one item for the report (PNG).</summary>
public sealed record ItemPicture(string Label, byte[] Png);

/// <summary>A composer that draws its own per-item pictures for the report (driving: camera, range view and bird's-eye
/// view before and after); without it the report shows the model-resolution crops.</summary>
public interface IItemPictures
{
    Task<IReadOnlyList<ItemPicture>> PicturesAsync(WorkItem item, ItemResult result, IBlobReader blobs, CancellationToken cancellationToken);
}
