using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Mammography;

/// <summary>
/// Compose for mammography: pastes the generated crop back into the full-resolution target (feathered, exact outside
/// box + margin, in the source's bit depth) and writes a derived DICOM carrying the sample's lineage. UIDs derive from
/// the run id and item id, so a rerun of the same request writes the same bytes. Beside it, {item}.seg.dcm: a binary
/// DICOM Segmentation of the synthetic lesion (<see cref="SegmentationWriter"/>) whose mask is what the inpainting
/// changed inside the box (<see cref="LesionMask.FromDifference"/>), referencing the derived image and carrying the
/// lineage. The annotation file is <see cref="SyntheticFindingsCsv"/>.
/// </summary>
public sealed class MammographyComposer : IItemComposer
{
    /// <summary>Suffix of the lesion's Segmentation beside the derived image.</summary>
    public const string SegmentationSuffix = ".seg.dcm";

    public string OutputExtension(WorkItem item) => ".dcm";

    public ComposedFile Compose(ComposeInput input)
    {
        using var target = SourceImage.Decode(input.Source, input.Item.TargetImage);
        using var composed = ItemImaging.Compose(target, input.Sample, input.Geometry, input.Item.TargetBox);
        var options = new DerivedImageOptions
        {
            Lineage = input.Lineage,
            SopInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:{input.Item.ItemId}:sop"),
            SeriesInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:series"),
            Deidentify = input.Deidentify ? new DicomUidRemapper(input.RunId) : null,
        };
        var derived = DerivedImageWriter.Create(target.Dicom.File, composed, options);
        var box = input.Item.TargetBox;
        var mask = LesionMask.FromDifference(target.Dicom.Stored, composed, new Imaging.Preprocessing.BoxF(box.X0, box.Y0, box.X1, box.Y1));
        var segmentation = SegmentationWriter.Create(derived, mask.Mask, new SegmentationOptions
        {
            SegmentLabel = input.Item.ClassName,
            SegmentDescription = mask.Source == LesionMaskSource.Difference
                ? $"Synthetic {input.Item.ClassName}: pixels the inpainting changed by more than {mask.Threshold:0.###} stored values (Otsu) inside the box, largest component, holes filled; {mask.Pixels} pixels"
                : "Synthetic lesion: the inpainting left the box unchanged; the mask is the box",
            AlgorithmName = "Pipeline LesionMask (inpainted difference, Otsu)",
            Lineage = input.Lineage,
            SopInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:{input.Item.ItemId}:seg-sop"),
            SeriesInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:seg-series"),
        });
        return new ComposedFile(DicomFileWriter.ToBytes(derived), "application/dicom")
        {
            Sidecars = [new ComposedSidecar(SegmentationSuffix, DicomFileWriter.ToBytes(segmentation), "application/dicom")],
        };
    }

    public ComposedFile Annotations(IReadOnlyList<WorkItem> planned, IReadOnlyDictionary<string, ItemResult> results, IReadOnlyDictionary<string, Lineage> lineages) =>
        new(Encoding.UTF8.GetBytes(SyntheticFindingsCsv.Csv(planned, results, lineages)), "text/csv");
}
