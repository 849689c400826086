using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
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
    /// <summary>Suffix of the lesion's Segmentation beside a DICOM output.</summary>
    public const string SegmentationSuffix = ".seg.dcm";

    /// <summary>Suffix of the lesion's mask (8-bit PNG, 255 inside) beside a PNG output.</summary>
    public const string MaskSuffix = ".mask.png";

    /// <summary>
    /// DICOM sources give DICOM with <see cref="OutputFormat.Same"/> or <see cref="OutputFormat.Dicom"/>, PNG with
    /// <see cref="OutputFormat.Png"/>; PNG and JPEG sources give PNG (JPEG with <see cref="OutputFormat.Same"/> too: a
    /// second lossy generation over the lesion would blur what was generated). A PNG/JPEG source with
    /// <see cref="OutputFormat.Dicom"/> is refused: there is no patient or study to derive a DICOM from.
    /// </summary>
    public string OutputExtension(WorkItem item, OutputFormat format)
    {
        bool dicomSource = !IsRaster(item.TargetImage);
        return format switch
        {
            OutputFormat.Png => ".png",
            OutputFormat.Dicom when !dicomSource => throw new InvalidDataException(
                $"output format 'dicom' needs DICOM sources; {item.TargetImage} is {Path.GetExtension(item.TargetImage)} (use 'same' or 'png')"),
            _ => dicomSource ? ".dcm" : ".png",
        };
    }

    private static bool IsRaster(string path) =>
        path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) ||
        path.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase);

    public ComposedFile Compose(ComposeInput input)
    {
        using var target = SourceImage.Decode(input.Source, input.Item.TargetImage);
        using var composed = ItemImaging.Compose(target, input.Sample, input.Geometry, input.Item.TargetBox);
        var box = input.Item.TargetBox;
        using var grayTarget = target.Stored.Channels > 1 ? FirstChannel(target.Stored) : null;
        using var grayComposed = composed.Channels > 1 ? FirstChannel(composed) : null;
        var mask = LesionMask.FromDifference(grayTarget ?? target.Stored, grayComposed ?? composed, new Imaging.Preprocessing.BoxF(box.X0, box.Y0, box.X1, box.Y1));
        string description = mask.Source == LesionMaskSource.Difference
            ? $"Synthetic {input.Item.ClassName}: pixels the inpainting changed by more than {mask.Threshold:0.###} stored values (Otsu) inside the box, largest component, holes filled; {mask.Pixels} pixels"
            : "Synthetic lesion: the inpainting left the box unchanged; the mask is the box";
        bool png = OutputExtension(input.Item, input.Format) == ".png";
        if (png)
        {
            // PNG keeps the source's samples (bit depth and channels); a DICOM source is written as its 16-bit display rendering.
            byte[] image;
            if (target.Dicom is null) image = PngCodec.Encode(composed);
            else
            {
                var derived = DerivedImageWriter.Create(target.Dicom.File, composed, new DerivedImageOptions());
                using var rendered = DicomImage.Read(DicomFileWriter.ToBytes(derived), input.Item.TargetImage);
                using var display = DicomRenderer.Render(rendered);
                using var quantised = DicomRenderer.Quantise(display, 16);
                image = PngCodec.Encode(quantised);
            }
            var maskPixels = mask.Mask.Select(v => v == 0 ? (byte)0 : (byte)255).ToArray();
            using var maskImage = ImageBuffer.FromSamples<byte>(mask.Width, mask.Height, 1, maskPixels);
            return new ComposedFile(image, "image/png") { Sidecars = [new ComposedSidecar(MaskSuffix, PngCodec.Encode(maskImage), "image/png")] };
        }
        var options = new DerivedImageOptions
        {
            Lineage = input.Lineage,
            SopInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:{input.Item.ItemId}:sop"),
            SeriesInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:series"),
            Deidentify = input.Deidentify ? new DicomUidRemapper(input.RunId) : null,
        };
        var output = DerivedImageWriter.Create(target.Dicom!.File, composed, options);
        var segmentation = SegmentationWriter.Create(output, mask.Mask, new SegmentationOptions
        {
            SegmentLabel = input.Item.ClassName,
            SegmentDescription = description,
            AlgorithmName = "Pipeline LesionMask (inpainted difference, Otsu)",
            Lineage = input.Lineage,
            SopInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:{input.Item.ItemId}:seg-sop"),
            SeriesInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:seg-series"),
        });
        return new ComposedFile(DicomFileWriter.ToBytes(output), "application/dicom")
        {
            Sidecars = [new ComposedSidecar(SegmentationSuffix, DicomFileWriter.ToBytes(segmentation), "application/dicom")],
        };
    }

    /// <summary>The first channel of an RGB image, for the lesion mask (the lesion is written equally into every channel).</summary>
    private static ImageBuffer FirstChannel(ImageBuffer image)
    {
        using var f = image.ToFloat32();
        var gray = ImageBuffer.Create(image.Width, image.Height, 1, PixelType.Float32);
        var src = f.Pixels<float>();
        var dst = gray.Pixels<float>();
        for (int i = 0; i < dst.Length; i++) dst[i] = src[i * image.Channels];
        return gray;
    }

    public Task<ComposedFile> ComposeAsync(ComposeInput input, IBlobReader blobs, CancellationToken cancellationToken) => Task.FromResult(Compose(input));

    /// <summary>The annotation file name under runs/{id}/out/.</summary>
    public const string AnnotationFile = "finding_annotations.csv";

    public Task<IReadOnlyList<OutputFile>> AnnotationsAsync(IReadOnlyList<WorkItem> planned, IReadOnlyDictionary<string, ItemResult> results,
        IReadOnlyDictionary<string, Lineage> lineages, IBlobReader blobs, CancellationToken cancellationToken)
    {
        var file = Annotations(planned, results, lineages);
        return Task.FromResult<IReadOnlyList<OutputFile>>([new OutputFile(AnnotationFile, file.Content, file.ContentType)]);
    }

    public ComposedFile Annotations(IReadOnlyList<WorkItem> planned, IReadOnlyDictionary<string, ItemResult> results, IReadOnlyDictionary<string, Lineage> lineages) =>
        new(Encoding.UTF8.GetBytes(SyntheticFindingsCsv.Csv(planned, results, lineages)), "text/csv");
}
