using System.Globalization;
using System.Text;
using Pipeline.Core.Contracts;

namespace Pipeline.Imaging.Dicom;

/// <summary>Options of <see cref="SegmentationWriter.Create"/>.</summary>
public sealed class SegmentationOptions
{
    /// <summary>Segment Label (0062,0005): the finding's class, e.g. "Mass".</summary>
    public required string SegmentLabel { get; init; }

    /// <summary>Segment Description (0062,0006): how the mask was made.</summary>
    public string? SegmentDescription { get; init; }

    /// <summary>Segment Algorithm Name (0062,0009), required for AUTOMATIC segments (PS3.3 C.8.20.2.1).</summary>
    public string AlgorithmName { get; init; } = "Pipeline lesion mask";

    /// <summary>The synthetic sample's lineage: private block as in the derived image, summary in Content Description.</summary>
    public Lineage? Lineage { get; init; }

    public string? SeriesInstanceUid { get; init; }
    public string? SopInstanceUid { get; init; }
    public int SeriesNumber { get; init; } = 900;
    public int InstanceNumber { get; init; } = 1;
}

/// <summary>
/// Writes a binary DICOM Segmentation (Segmentation IOD, PS3.3 A.51) of one image: one segment, one frame, 1-bit
/// pixels (PS3.3 C.8.20.2: Bits Allocated 1, MONOCHROME2), referencing the segmented image in the frame's Derivation
/// Image Sequence (C.7.6.16.2.6, purpose 121322, derivation 113076 "Segmentation") and in the Common Instance
/// Reference Module (C.12.2). Patient, study and frame of reference are the image's; series and instance are new.
/// Segmented property: category SCT 49755003 "Morphologically Altered Structure", type SCT 52988006 "Lesion"
/// (CID 7150/7151); the class goes to the Segment Label.
/// </summary>
public static class SegmentationWriter
{
    private static readonly DicomTag[] PatientAndStudy =
    [
        DicomTag.PatientName, DicomTag.PatientID, DicomTag.PatientBirthDate, DicomTag.PatientSex, DicomTag.PatientAge,
        DicomTag.PatientIdentityRemoved, DicomTag.DeidentificationMethod,
        DicomTag.StudyInstanceUID, DicomTag.StudyDate, DicomTag.StudyTime, DicomTag.ReferringPhysicianName, DicomTag.StudyID,
        DicomTag.AccessionNumber, DicomTag.StudyDescription, DicomTag.FrameOfReferenceUID, DicomTag.PositionReferenceIndicator,
    ];

    /// <summary>
    /// The Segmentation of <paramref name="image"/> whose mask is <paramref name="mask"/> (Columns x Rows bytes, row-major,
    /// non-zero inside the segment).
    /// </summary>
    public static DicomFile Create(DicomFile image, ReadOnlySpan<byte> mask, SegmentationOptions options)
    {
        var src = image.Dataset;
        string item = image.Item;
        int rows = src.GetInt(DicomTag.Rows) ?? throw new DicomException(item, "image without Rows");
        int columns = src.GetInt(DicomTag.Columns) ?? throw new DicomException(item, "image without Columns");
        if (mask.Length != rows * columns)
            throw new DicomException(item, $"mask has {mask.Length} pixels; the {columns}x{rows} image needs {rows * columns}");
        string imageClass = src.GetString(DicomTag.SOPClassUID) ?? throw new DicomException(item, "image has no SOP Class UID");
        string imageInstance = src.GetString(DicomTag.SOPInstanceUID) ?? throw new DicomException(item, "image has no SOP Instance UID");
        string imageSeries = src.GetString(DicomTag.SeriesInstanceUID) ?? throw new DicomException(item, "image has no Series Instance UID");

        var ds = new DicomDataset { TextEncoding = src.TextEncoding };
        ds.SetString(DicomTag.SpecificCharacterSet, DicomVR.CS, src.TextEncoding == Encoding.UTF8 ? "ISO_IR 192" : "ISO_IR 100");
        foreach (var tag in PatientAndStudy)
            if (src[tag] is { } e) ds.Add(e);
        // Type 2 attributes of the Patient and General Study modules are present even when unknown.
        foreach (var (tag, vr) in new[] { (DicomTag.PatientName, DicomVR.PN), (DicomTag.PatientID, DicomVR.LO), (DicomTag.PatientBirthDate, DicomVR.DA),
                     (DicomTag.PatientSex, DicomVR.CS), (DicomTag.StudyDate, DicomVR.DA), (DicomTag.StudyTime, DicomVR.TM),
                     (DicomTag.ReferringPhysicianName, DicomVR.PN), (DicomTag.StudyID, DicomVR.SH), (DicomTag.AccessionNumber, DicomVR.SH) })
            if (!ds.Contains(tag)) ds.Add(new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty));
        if (ds.Contains(DicomTag.FrameOfReferenceUID) && !ds.Contains(DicomTag.PositionReferenceIndicator))
            ds.Add(new DicomElement(DicomTag.PositionReferenceIndicator, DicomVR.LO, ReadOnlyMemory<byte>.Empty));

        // Content Date/Time (type 1) are the segmented image's (else its study's), so the same image always gives the same
        // bytes and reruns of a run are byte-identical; a de-identified image has neither, and then a fixed placeholder
        // (19700101 000000) is written rather than the clock.
        string date = NonEmpty(src.GetString(DicomTag.ContentDate)) ?? NonEmpty(src.GetString(DicomTag.StudyDate)) ?? "19700101";
        string time = NonEmpty(src.GetString(DicomTag.ContentTime)) ?? NonEmpty(src.GetString(DicomTag.StudyTime)) ?? "000000";
        string sop = options.SopInstanceUid ?? DicomUid.Generate();
        string series = options.SeriesInstanceUid ?? DicomUid.Generate();
        foreach (var uid in new[] { sop, series })
            if (!DicomUid.IsValid(uid)) throw new DicomException(item, $"'{uid}' is not a valid UID");

        // SOP Common, Segmentation Series, Enhanced General Equipment (C.7.5.2: all type 1).
        ds.SetString(DicomTag.SOPClassUID, DicomVR.UI, DicomSegmentation.SopClassUid);
        ds.SetString(DicomTag.SOPInstanceUID, DicomVR.UI, sop);
        ds.SetString(DicomTag.Modality, DicomVR.CS, "SEG");
        ds.SetString(DicomTag.SeriesInstanceUID, DicomVR.UI, series);
        ds.SetInts(DicomTag.SeriesNumber, options.SeriesNumber);
        ds.SetString(DicomTag.SeriesDescription, DicomVR.LO, "Synthetic lesion segmentation");
        ds.SetString(DicomTag.Manufacturer, DicomVR.LO, "Pipeline");
        ds.SetString(DicomTag.ManufacturerModelName, DicomVR.LO, "Pipeline.Imaging");
        ds.SetString(DicomTag.DeviceSerialNumber, DicomVR.LO, "0");
        ds.SetString(DicomTag.SoftwareVersions, DicomVR.LO, DicomUid.ImplementationVersionName);

        // General Image + Segmentation Image (C.8.20.2): DERIVED\PRIMARY, content identification, 1-bit MONOCHROME2.
        ds.SetStrings(DicomTag.ImageType, DicomVR.CS, "DERIVED", "PRIMARY");
        ds.SetInts(DicomTag.InstanceNumber, options.InstanceNumber);
        // Patient Orientation (General Image, Type 2C: needed without plane position/orientation): the image's, else empty
        ds.Add(src[DicomTag.PatientOrientation] ?? new DicomElement(DicomTag.PatientOrientation, DicomVR.CS, ReadOnlyMemory<byte>.Empty));
        ds.SetString(DicomTag.ContentDate, DicomVR.DA, date);
        ds.SetString(DicomTag.ContentTime, DicomVR.TM, time);
        ds.SetString(DicomTag.ContentLabel, DicomVR.CS, "LESION");
        ds.SetString(DicomTag.ContentDescription, DicomVR.LO,
            DerivedImageWriter.Truncate(options.Lineage is { } l ? $"SYNTHETIC {l.Mode} run {l.RunId} item {l.ItemId}" : "Lesion segmentation", 64));
        ds.Add(new DicomElement(DicomTag.ContentCreatorName, DicomVR.PN, ReadOnlyMemory<byte>.Empty));
        ds.SetUInt16(DicomTag.SamplesPerPixel, 1);
        ds.SetString(DicomTag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2");
        ds.SetInts(DicomTag.NumberOfFrames, 1);
        ds.SetUInt16(DicomTag.Rows, (ushort)rows);
        ds.SetUInt16(DicomTag.Columns, (ushort)columns);
        ds.SetUInt16(DicomTag.BitsAllocated, 1);
        ds.SetUInt16(DicomTag.BitsStored, 1);
        ds.SetUInt16(DicomTag.HighBit, 0);
        ds.SetUInt16(DicomTag.PixelRepresentation, 0);
        ds.SetString(DicomTag.LossyImageCompression, DicomVR.CS, "00");
        ds.SetString(DicomTag.SegmentationType, DicomVR.CS, "BINARY");

        var segment = new DicomDataset { TextEncoding = ds.TextEncoding };
        segment.SetSequence(DicomTag.SegmentedPropertyCategoryCodeSequence, DicomDataset.CodeItem("49755003", "SCT", "Morphologically Altered Structure"));
        segment.SetUInt16(DicomTag.SegmentNumber, 1);
        segment.SetString(DicomTag.SegmentLabel, DicomVR.LO, DerivedImageWriter.Truncate(options.SegmentLabel, 64));
        if (options.SegmentDescription != null) segment.SetString(DicomTag.SegmentDescription, DicomVR.ST, DerivedImageWriter.Truncate(options.SegmentDescription, 1024));
        segment.SetString(DicomTag.SegmentAlgorithmType, DicomVR.CS, "AUTOMATIC");
        segment.SetString(DicomTag.SegmentAlgorithmName, DicomVR.LO, DerivedImageWriter.Truncate(options.AlgorithmName, 64));
        segment.SetSequence(DicomTag.SegmentedPropertyTypeCodeSequence, DicomDataset.CodeItem("52988006", "SCT", "Lesion"));
        ds.SetSequence(DicomTag.SegmentSequence, segment);

        // Multi-frame Dimension Module (C.7.6.17): one dimension, the segment number.
        string organization = DicomUid.FromName("pipeline:seg-dimension-organization:" + sop);
        var org = new DicomDataset();
        org.SetString(DicomTag.DimensionOrganizationUID, DicomVR.UI, organization);
        ds.SetSequence(DicomTag.DimensionOrganizationSequence, org);
        var index = new DicomDataset();
        index.SetBytes(DicomTag.DimensionIndexPointer, DicomVR.AT, TagBytes(DicomTag.ReferencedSegmentNumber));
        index.SetBytes(DicomTag.FunctionalGroupPointer, DicomVR.AT, TagBytes(DicomTag.SegmentIdentificationSequence));
        index.SetString(DicomTag.DimensionOrganizationUID, DicomVR.UI, organization);
        index.SetString(DicomTag.DimensionDescriptionLabel, DicomVR.LO, "Segment Number");
        ds.SetSequence(DicomTag.DimensionIndexSequence, index);

        // Common Instance Reference (C.12.2): the segmented image.
        var instance = new DicomDataset();
        instance.SetString(DicomTag.ReferencedSOPClassUID, DicomVR.UI, imageClass);
        instance.SetString(DicomTag.ReferencedSOPInstanceUID, DicomVR.UI, imageInstance);
        var seriesRef = new DicomDataset();
        seriesRef.SetSequence(DicomTag.ReferencedInstanceSequence, instance);
        seriesRef.SetString(DicomTag.SeriesInstanceUID, DicomVR.UI, imageSeries);
        ds.SetSequence(DicomTag.ReferencedSeriesSequence, seriesRef);

        // Functional groups (C.7.6.16): pixel spacing shared; derivation, frame content and segment per frame.
        var shared = new DicomDataset();
        var spacing = src.GetDoubles(DicomTag.PixelSpacing) is { Length: >= 2 } ps ? ps : src.GetDoubles(DicomTag.ImagerPixelSpacing);
        if (spacing.Length >= 2)
        {
            var measures = new DicomDataset();
            measures.SetDecimals(DicomTag.PixelSpacing, spacing[0], spacing[1]);
            shared.SetSequence(DicomTag.PixelMeasuresSequence, measures);
        }
        ds.SetSequence(DicomTag.SharedFunctionalGroupsSequence, shared);
        var source = new DicomDataset();
        source.SetString(DicomTag.ReferencedSOPClassUID, DicomVR.UI, imageClass);
        source.SetString(DicomTag.ReferencedSOPInstanceUID, DicomVR.UI, imageInstance);
        source.SetSequence(DicomTag.PurposeOfReferenceCodeSequence, DicomDataset.CodeItem("121322", "DCM", "Source image for image processing operation"));
        var derivation = new DicomDataset();
        derivation.SetSequence(DicomTag.SourceImageSequence, source);
        derivation.SetSequence(DicomTag.DerivationCodeSequence, DicomDataset.CodeItem("113076", "DCM", "Segmentation"));
        var content = new DicomDataset();
        content.SetBytes(DicomTag.DimensionIndexValues, DicomVR.UL, new byte[] { 1, 0, 0, 0 });
        var identification = new DicomDataset();
        identification.SetUInt16(DicomTag.ReferencedSegmentNumber, 1);
        var frame = new DicomDataset();
        frame.SetSequence(DicomTag.DerivationImageSequence, derivation);
        frame.SetSequence(DicomTag.FrameContentSequence, content);
        frame.SetSequence(DicomTag.SegmentIdentificationSequence, identification);
        ds.SetSequence(DicomTag.PerFrameFunctionalGroupsSequence, frame);

        if (options.Lineage is { } lineage) DerivedImageWriter.WriteLineage(ds, lineage);
        ds.SetBytes(DicomTag.PixelData, DicomVR.OB, DicomSegmentation.PackBits(mask));
        return new DicomFile(new DicomDataset { SourceName = sop }, ds, TransferSyntax.ExplicitVRLittleEndian, sop);
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static byte[] TagBytes(DicomTag tag) =>
        [(byte)tag.Group, (byte)(tag.Group >> 8), (byte)tag.Element, (byte)(tag.Element >> 8)];
}
