using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>Options of <see cref="SecondaryCaptureWriter.Create"/>.</summary>
public sealed class SecondaryCaptureOptions
{
    /// <summary>The raster the pixels come from (a dataset path such as datasets/d/images/a.png): named in Derivation
    /// Description and used to derive the patient pseudonym, so every output of one source shares its patient.</summary>
    public required string SourceName { get; init; }

    /// <summary>The source was lossy (JPEG): Lossy Image Compression 01 with method ISO_10918_1 (PS3.3 C.7.6.1.1.5).</summary>
    public bool SourceWasLossy { get; init; }

    /// <summary>The sample's lineage, stored in the private block and summarised in Image Comments (as in a derived image).</summary>
    public Lineage? Lineage { get; init; }

    public string DerivationDescription { get; init; } = "Synthetic lesion inserted by reference-guided diffusion inpainting";

    /// <summary>Study Instance UID; default derived from <see cref="SourceName"/> (one study per source raster).</summary>
    public string? StudyInstanceUid { get; init; }
    public string? SeriesInstanceUid { get; init; }
    public string? SopInstanceUid { get; init; }
    public int SeriesNumber { get; init; } = 901;
    public int InstanceNumber { get; init; } = 1;
}

/// <summary>
/// Writes a raster (PNG/JPEG source: 8- or 16-bit gray, 8-bit RGB) as a DICOM Secondary Capture Image
/// (SOP Class 1.2.840.10008.5.1.4.1.1.7; PS3.3 A.8.1 SC Image IOD): Patient, General Study, General Series, SC Equipment
/// (Conversion Type SYN, "synthetic image", C.8.6.1), General Image (DERIVED\SECONDARY, Derivation Description naming the
/// source raster), Image Pixel (MONOCHROME2 or RGB, the raster's bit depth, Bits Stored = Bits Allocated), SC Image and
/// SOP Common. A raster carries no patient, study or acquisition, so the Type 2 patient and study attributes are present
/// and empty, the Patient ID is a pseudonym derived from the source's name, and the UIDs derive from the caller's names
/// (reruns are byte-identical). Digital Mammography X-Ray (For Presentation) is not written: its Type 1 acquisition
/// attributes (detector, imager pixel spacing, view, laterality, exposure) are unknown for a raster and would have to be
/// invented.
/// </summary>
public static class SecondaryCaptureWriter
{
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.7";

    public static DicomFile Create(ImageBuffer pixels, SecondaryCaptureOptions options)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        string item = options.SourceName;
        if (pixels.Width is < 1 or > ushort.MaxValue || pixels.Height is < 1 or > ushort.MaxValue)
            throw new DicomException(item, $"{pixels.Width}x{pixels.Height} cannot be written as DICOM (Rows and Columns are 16-bit)");
        (int bits, string photometric) = (pixels.PixelType, pixels.Channels) switch
        {
            (PixelType.UInt8, 1) => (8, "MONOCHROME2"),
            (PixelType.UInt16, 1) => (16, "MONOCHROME2"),
            (PixelType.UInt8, 3) => (8, "RGB"),
            _ => throw new DicomException(item, $"a {pixels.Channels}-channel {pixels.PixelType} raster cannot be written as a Secondary Capture (8/16-bit gray or 8-bit RGB)"),
        };
        string sop = options.SopInstanceUid ?? DicomUid.Generate();
        string series = options.SeriesInstanceUid ?? DicomUid.Generate();
        string study = options.StudyInstanceUid ?? DicomUid.FromName("pipeline:secondary-capture-study:" + options.SourceName);
        foreach (var uid in new[] { sop, series, study })
            if (!DicomUid.IsValid(uid)) throw new DicomException(item, $"'{uid}' is not a valid UID");

        var ds = new DicomDataset { TextEncoding = Encoding.UTF8 };
        ds.SetString(DicomTag.SpecificCharacterSet, DicomVR.CS, "ISO_IR 192");
        // SOP Common
        ds.SetString(DicomTag.SOPClassUID, DicomVR.UI, SopClassUid);
        ds.SetString(DicomTag.SOPInstanceUID, DicomVR.UI, sop);
        // Patient (C.7.1.1): unknown for a raster; the ID is a pseudonym of the source, so its outputs group as one patient.
        ds.Add(new DicomElement(DicomTag.PatientName, DicomVR.PN, ReadOnlyMemory<byte>.Empty));
        ds.SetString(DicomTag.PatientID, DicomVR.LO, "RASTER" + DicomUid.FromName("pipeline:raster-patient:" + options.SourceName)[5..21]);
        ds.Add(new DicomElement(DicomTag.PatientBirthDate, DicomVR.DA, ReadOnlyMemory<byte>.Empty));
        ds.Add(new DicomElement(DicomTag.PatientSex, DicomVR.CS, ReadOnlyMemory<byte>.Empty));
        ds.SetString(DicomTag.PatientIdentityRemoved, DicomVR.CS, "YES");
        ds.SetString(DicomTag.DeidentificationMethod, DicomVR.LO, "Converted from a raster without patient data");
        // General Study (C.7.2.1): Type 2 dates, physician, ids empty (no clock: reruns stay byte-identical).
        ds.SetString(DicomTag.StudyInstanceUID, DicomVR.UI, study);
        foreach (var (tag, vr) in new[] { (DicomTag.StudyDate, DicomVR.DA), (DicomTag.StudyTime, DicomVR.TM), (DicomTag.ReferringPhysicianName, DicomVR.PN),
                     (DicomTag.StudyID, DicomVR.SH), (DicomTag.AccessionNumber, DicomVR.SH) })
            ds.Add(new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty));
        // General Series (C.7.3.1): modality OT (the acquisition is unknown).
        ds.SetString(DicomTag.Modality, DicomVR.CS, "OT");
        ds.SetString(DicomTag.SeriesInstanceUID, DicomVR.UI, series);
        ds.SetInts(DicomTag.SeriesNumber, options.SeriesNumber);
        ds.SetString(DicomTag.SeriesDescription, DicomVR.LO, "Synthetic lesions (secondary capture of raster sources)");
        ds.Add(new DicomElement(DicomTag.Laterality, DicomVR.CS, ReadOnlyMemory<byte>.Empty)); // Type 2C: a breast is paired, the side unknown
        // SC Equipment (C.8.6.1) + General Equipment
        ds.SetString(DicomTag.ConversionType, DicomVR.CS, "SYN");
        ds.SetString(DicomTag.Manufacturer, DicomVR.LO, "Pipeline");
        ds.SetString(DicomTag.ManufacturerModelName, DicomVR.LO, "Pipeline.Imaging");
        ds.SetString(DicomTag.SoftwareVersions, DicomVR.LO, DicomUid.ImplementationVersionName);
        // General Image (C.7.6.1)
        ds.SetStrings(DicomTag.ImageType, DicomVR.CS, "DERIVED", "SECONDARY");
        ds.SetInts(DicomTag.InstanceNumber, options.InstanceNumber);
        ds.Add(new DicomElement(DicomTag.PatientOrientation, DicomVR.CS, ReadOnlyMemory<byte>.Empty));
        ds.SetString(DicomTag.DerivationDescription, DicomVR.ST,
            DerivedImageWriter.Truncate($"{options.DerivationDescription}; converted from {options.SourceName}", 1024));
        ds.SetString(DicomTag.BurnedInAnnotation, DicomVR.CS, "NO");
        if (options.SourceWasLossy)
        {
            ds.SetString(DicomTag.LossyImageCompression, DicomVR.CS, "01");
            ds.SetString(DicomTag.LossyImageCompressionMethod, DicomVR.CS, "ISO_10918_1");
        }
        else ds.SetString(DicomTag.LossyImageCompression, DicomVR.CS, "00");
        if (options.Lineage is { } lineage)
        {
            DerivedImageWriter.WriteLineage(ds, lineage);
            ds.SetString(DicomTag.ImageComments, DicomVR.LT, DerivedImageWriter.Truncate(DerivedImageWriter.Summary(lineage), 10240));
        }
        // Image Pixel (C.7.6.3): native, Explicit VR Little Endian; colour interleaved (Planar Configuration 0).
        ds.SetUInt16(DicomTag.SamplesPerPixel, (ushort)pixels.Channels);
        ds.SetString(DicomTag.PhotometricInterpretation, DicomVR.CS, photometric);
        if (pixels.Channels == 3) ds.SetUInt16(DicomTag.PlanarConfiguration, 0);
        ds.SetUInt16(DicomTag.Rows, (ushort)pixels.Height);
        ds.SetUInt16(DicomTag.Columns, (ushort)pixels.Width);
        ds.SetUInt16(DicomTag.BitsAllocated, (ushort)bits);
        ds.SetUInt16(DicomTag.BitsStored, (ushort)bits);
        ds.SetUInt16(DicomTag.HighBit, (ushort)(bits - 1));
        ds.SetUInt16(DicomTag.PixelRepresentation, 0);
        ds.SetBytes(DicomTag.PixelData, bits == 8 ? DicomVR.OB : DicomVR.OW, pixels.Bytes.ToArray());
        return new DicomFile(new DicomDataset { SourceName = sop }, ds, TransferSyntax.ExplicitVRLittleEndian, sop);
    }
}
