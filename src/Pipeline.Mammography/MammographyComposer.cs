using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Core.Domains;
using Pipeline.Imaging.Buffers;
using Pipeline.Imaging.Codecs;
using Pipeline.Imaging.Compositing;
using Pipeline.Imaging.Dicom;
using Pipeline.Metrics.Pixel;
using Pipeline.Metrics.Report;
using Pipeline.Mammography.Planning;

namespace Pipeline.Mammography;

/// <summary>
/// Compose for mammography: pastes the generated crop back into the full-resolution target (feathered, exact outside
/// box + margin, in the source's bit depth) and writes it in the requested format (<see cref="OutputExtension"/>): a
/// derived DICOM carrying the sample's lineage, a Secondary Capture DICOM of a PNG/JPEG source, a PNG or a JPEG. UIDs derive from
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

    /// <summary>Encoding of a JPEG output (<see cref="OutputFormat.Same"/> over a JPEG source): quality 95 with full-resolution
    /// chroma (4:4:4; gray sources stay one-channel), so the second lossy generation costs little (docs/e2e.md, "Outputs").</summary>
    public static readonly JpegEncodeOptions JpegOutput = new() { Quality = 95, Subsampling = JpegSubsampling.Samp444 };

    /// <summary>
    /// <see cref="OutputFormat.Same"/> keeps the source's format: DICOM gives a derived DICOM, PNG a PNG of the source's
    /// bit depth and channels, JPEG a JPEG (<see cref="JpegOutput"/>). <see cref="OutputFormat.Png"/> always gives PNG
    /// (a DICOM as its 16-bit display rendering). <see cref="OutputFormat.Dicom"/> gives a derived DICOM of a DICOM source
    /// and a Secondary Capture (<see cref="SecondaryCaptureWriter"/>) of a PNG/JPEG source.
    /// </summary>
    public string OutputExtension(WorkItem item, OutputFormat format) => format switch
    {
        OutputFormat.Png => ".png",
        OutputFormat.Dicom => ".dcm",
        _ => IsJpeg(item.TargetImage) ? ".jpg" : IsPng(item.TargetImage) ? ".png" : ".dcm",
    };

    private static bool IsPng(string path) => path.EndsWith(".png", StringComparison.OrdinalIgnoreCase);

    private static bool IsJpeg(string path) =>
        path.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase);

    /// <summary>How an output of this extension is encoded, for the lineage (<see cref="Lineage.OutputEncoding"/>).</summary>
    public static string OutputEncoding(string extension, SourceFormat source, ImageBuffer composed) => extension switch
    {
        ".jpg" => $"JPEG baseline, quality {JpegOutput.Quality}, {(composed.Channels == 1 ? "gray" : "YCbCr 4:4:4")} (lossy, like its JPEG source)",
        ".png" when source == SourceFormat.Dicom => "PNG 16-bit gray: the DICOM's display rendering (VOI window) (lossless)",
        ".png" => $"PNG {(composed.PixelType == PixelType.UInt16 ? 16 : 8)}-bit {(composed.Channels == 1 ? "gray" : "RGB")} (lossless)",
        _ when source == SourceFormat.Dicom => "DICOM derived image, Explicit VR Little Endian, the source's pixel format (lossless)",
        _ => $"DICOM Secondary Capture, Explicit VR Little Endian, {(composed.PixelType == PixelType.UInt16 ? 16 : 8)}-bit " +
             $"{(composed.Channels == 1 ? "MONOCHROME2" : "RGB")} (lossless; converted from {source})",
    };

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
        string extension = OutputExtension(input.Item, input.Format);
        string encoding = OutputEncoding(extension, target.Format, composed);
        var metrics = FullResolutionMetrics(grayTarget ?? target.Stored, grayComposed ?? composed, box);
        if (extension != ".dcm")
        {
            // PNG keeps the source's samples (bit depth and channels); a DICOM source is written as its 16-bit display
            // rendering. JPEG ("same" over a JPEG source) is re-encoded at JpegOutput's quality.
            byte[] image;
            if (extension == ".jpg") image = JpegCodec.Encode(composed, JpegOutput);
            else if (target.Dicom is null) image = PngCodec.Encode(composed);
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
            return new ComposedFile(image, extension == ".jpg" ? "image/jpeg" : "image/png")
            {
                Encoding = encoding,
                Sidecars = [new ComposedSidecar(MaskSuffix, PngCodec.Encode(maskImage), "image/png")],
                Metrics = metrics,
            };
        }
        DicomFile output;
        if (target.Dicom is { } dicom)
        {
            output = DerivedImageWriter.Create(dicom.File, composed, new DerivedImageOptions
            {
                Lineage = input.Lineage,
                SopInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:{input.Item.ItemId}:sop"),
                SeriesInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:series"),
                Deidentify = input.Deidentify ? new DicomUidRemapper(input.RunId) : null,
            });
        }
        else
        {
            // a PNG/JPEG source has no patient, study or acquisition to derive from: a Secondary Capture of the composite
            output = SecondaryCaptureWriter.Create(composed, new SecondaryCaptureOptions
            {
                SourceName = input.Item.TargetImage,
                SourceWasLossy = target.Format == SourceFormat.Jpeg,
                Lineage = input.Lineage,
                StudyInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:study:{input.Item.TargetImage}"),
                SopInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:{input.Item.ItemId}:sop"),
                SeriesInstanceUid = DicomUid.FromName($"pipeline:{input.RunId}:series"),
            });
        }
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
            Encoding = encoding,
            Sidecars = [new ComposedSidecar(SegmentationSuffix, DicomFileWriter.ToBytes(segmentation), "application/dicom")],
            Metrics = metrics,
        };
    }

    /// <summary>
    /// What only the full-resolution output shows: the texture measure (docs/metrics.md, "Texture") of the output and of the
    /// untouched source at the box, on the stored values of one channel (the measure is a ratio, so the linear VOI
    /// mapping to display values does not change it).
    /// </summary>
    public static IReadOnlyDictionary<string, double> FullResolutionMetrics(ImageBuffer source, ImageBuffer composed, BoundingBox box)
    {
        var rect = LesionPlanner.ToBoxF(box).Cover().ClipTo(source.Width, source.Height);
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        if (rect.IsEmpty) return metrics;
        // Only the window the measure filters is read (the box grown by the ring and the kernel radius): the measure's values
        // on box and ring are the whole image's, without converting a full-resolution mammogram to floats per item.
        int pad = TextureOptions.Default.RingWidth + TextureOptions.Default.Radius;
        var window = rect.Inflate(pad).ClipTo(source.Width, source.Height);
        var at = new SeamBox(rect.Left - window.Left, rect.Top - window.Top, rect.Width, rect.Height);
        foreach (var (method, image) in new[] { (ComparisonMethod.Model, composed), (ComparisonMethod.Untouched, source) })
            if (TextureMeasure.Compute(Window(image, window), window.Width, window.Height, at) is { } t)
                metrics[ComparisonMethod.Key(method, "texture")] = t.Texture;
        return metrics;
    }

    /// <summary>The samples of the first channel of <paramref name="image"/> inside <paramref name="rect"/>, as floats, row-major.</summary>
    private static float[] Window(ImageBuffer image, Imaging.Preprocessing.PixelRect rect)
    {
        var all = image.WindowToFloat32(rect.Left, rect.Top, rect.Width, rect.Height);
        if (image.Channels == 1) return all;
        var first = new float[rect.Width * rect.Height];
        for (int i = 0; i < first.Length; i++) first[i] = all[i * image.Channels];
        return first;
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
