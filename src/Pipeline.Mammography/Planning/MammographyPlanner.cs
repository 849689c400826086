using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Ingestion;
using Pipeline.Imaging.Preprocessing;

namespace Pipeline.Mammography.Planning;

/// <summary>
/// Plans a mammography run: takes the findings ingestion resolved into the dataset index (any format of
/// <see cref="DatasetAnnotations"/>: VinDr-Mammo, CBIS-DDSM with ROI masks, generic CSV/JSON, DICOM Segmentations), or,
/// for an index without them, parses the annotation file; groups the findings per image (<see cref="DatasetImages"/>)
/// and chooses the items (<see cref="LesionPlanner"/>); an insertion target is decoded to find its breast tissue.
/// </summary>
public sealed class MammographyPlanner : IItemPlanner
{
    public bool Recognizes(DatasetFiles dataset) =>
        DatasetAnnotations.Detect(dataset.Paths) is not null || dataset.Findings?.Any(f => f.Box != null) == true;

    public async Task<PlannedItems> PlanAsync(AugmentationRequest request, DatasetFiles dataset, IBlobReader blobs, CancellationToken cancellationToken)
    {
        var rowProblems = new List<string>();
        IEnumerable<AnnotatedFinding> findings;
        if (dataset.Findings is { } resolved)
            // one at a time into the per-image grouping (the index's findings are not copied as a whole)
            findings = resolved.Select(f => new AnnotatedFinding(f.Image, f.ImageId, null, f.Width, f.Height, f.ClassName,
                f.Box is { } b ? [b.X0, b.Y0, b.X1, b.Y1] : null, f.Split, f.Laterality, f.View, 0, null, f.Source));
        else
        {
            if (DatasetAnnotations.Detect(dataset.Paths) is not { } annotation)
                return PlannedItems.Rejected([$"dataset '{dataset.Name}' has no annotations: expected {DatasetAnnotations.ExpectedFiles}"]);
            var bytes = await blobs.ReadAsync(dataset.BlobPrefix + annotation.File, cancellationToken).ConfigureAwait(false)
                        ?? throw new FileNotFoundException($"{dataset.BlobPrefix}{annotation.File} is listed in the dataset index but does not exist");
            findings = DatasetAnnotations.Parse(annotation.Format, annotation.File, System.Text.Encoding.UTF8.GetString(bytes), rowProblems);
        }
        var usable = DatasetImages.FromFindings(findings, dataset.BlobPrefix, dataset.Paths, rowProblems);

        // LesionPlanner loads each distinct target once, a few at a time, and keeps only the sites in flight
        var planned = await LesionPlanner.PlanAsync(request, usable, async (target, ct) =>
        {
            var data = await blobs.ReadAsync(target.Path, ct).ConfigureAwait(false)
                       ?? throw new FileNotFoundException($"{target.Path} is listed in the dataset index but does not exist");
            using var source = SourceImage.Decode(data, target.Path);
            return new InsertionSite(BreastForegroundMask.Compute(source.Display.Pixels<float>(), source.Width, source.Height), source.Width, source.Height);
        }, cancellationToken).ConfigureAwait(false);
        return planned with { Warnings = rowProblems };
    }
}
