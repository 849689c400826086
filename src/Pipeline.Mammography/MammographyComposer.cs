using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Mammography;

/// <summary>
/// Compose for mammography: pastes the generated crop back into the full-resolution target (feathered, exact outside
/// box + margin, in the source's bit depth) and writes a derived DICOM carrying the sample's lineage. UIDs derive from
/// the run id and item id, so a rerun of the same request writes the same bytes. The annotation file is
/// <see cref="SyntheticFindingsCsv"/>.
/// </summary>
public sealed class MammographyComposer : IItemComposer
{
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
        return new ComposedFile(DicomFileWriter.ToBytes(derived), "application/dicom");
    }

    public ComposedFile Annotations(IReadOnlyList<WorkItem> planned, IReadOnlyDictionary<string, ItemResult> results, IReadOnlyDictionary<string, Lineage> lineages) =>
        new(Encoding.UTF8.GetBytes(SyntheticFindingsCsv.Csv(planned, results, lineages)), "text/csv");
}
