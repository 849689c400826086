using System.Globalization;
using System.Runtime.InteropServices;
using Pipeline.Imaging.Dicom;

namespace Pipeline.Imaging.Synthetic;

/// <summary>Patient, study and instance identity of one synthetic image.</summary>
public sealed record MammoDicomIdentity(string PatientId, string PatientName, int Age, string StudyInstanceUid, string SeriesInstanceUid,
    string SopInstanceUid, string FrameOfReferenceUid, string StudyId, string AccessionNumber, int SeriesNumber, int InstanceNumber,
    DateOnly StudyDate, bool Monochrome1);

/// <summary>
/// Builds a Digital Mammography X-Ray Image - For Presentation object (PS3.3 A.26, modules C.8.11.7 DX Image, C.8.11.8
/// Mammography Image) around a phantom's pixels, in Explicit VR Little Endian.
/// </summary>
public static class MammoDicomFactory
{
    public const string DigitalMammographyForPresentation = "1.2.840.10008.5.1.4.1.1.1.2";

    public static DicomFile Create(MammoPhantomImage image, MammoDicomIdentity id)
    {
        var spec = image.Spec;
        var ds = new DicomDataset { SourceName = id.SopInstanceUid };
        string date = id.StudyDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        string lat = spec.Side.ToString();
        ds.SetString(DicomTag.SpecificCharacterSet, DicomVR.CS, "ISO_IR 100");
        ds.SetStrings(DicomTag.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY");
        ds.SetString(DicomTag.SOPClassUID, DicomVR.UI, DigitalMammographyForPresentation);
        ds.SetString(DicomTag.SOPInstanceUID, DicomVR.UI, id.SopInstanceUid);
        ds.SetString(DicomTag.StudyDate, DicomVR.DA, date);
        ds.SetString(DicomTag.SeriesDate, DicomVR.DA, date);
        ds.SetString(DicomTag.ContentDate, DicomVR.DA, date);
        ds.SetString(DicomTag.StudyTime, DicomVR.TM, "090000");
        ds.SetString(DicomTag.SeriesTime, DicomVR.TM, "090000");
        ds.SetString(DicomTag.ContentTime, DicomVR.TM, "090000");
        ds.SetString(DicomTag.AccessionNumber, DicomVR.SH, id.AccessionNumber);
        ds.SetString(DicomTag.Modality, DicomVR.CS, "MG");
        ds.SetString(DicomTag.PresentationIntentType, DicomVR.CS, "FOR PRESENTATION");
        ds.SetString(DicomTag.Manufacturer, DicomVR.LO, "Pipeline Synthetic");
        ds.SetString(DicomTag.InstitutionName, DicomVR.LO, "Synthetic Institution");
        ds.SetString(DicomTag.ReferringPhysicianName, DicomVR.PN, "");
        ds.SetString(DicomTag.StudyDescription, DicomVR.LO, "MAMMOGRAM SCREENING BILATERAL");
        ds.SetString(DicomTag.SeriesDescription, DicomVR.LO, $"{lat} {spec.View}");
        ds.SetString(DicomTag.ManufacturerModelName, DicomVR.LO, "MammoPhantom");
        var region = DicomDataset.CodeItem("T-04000", "SRT", "Breast");
        ds.SetSequence(DicomTag.AnatomicRegionSequence, region);
        ds.SetString(DicomTag.PatientName, DicomVR.PN, id.PatientName);
        ds.SetString(DicomTag.PatientID, DicomVR.LO, id.PatientId);
        ds.SetString(DicomTag.PatientBirthDate, DicomVR.DA, id.StudyDate.AddYears(-id.Age).ToString("yyyyMMdd", CultureInfo.InvariantCulture));
        ds.SetString(DicomTag.PatientSex, DicomVR.CS, "F");
        ds.SetString(DicomTag.PatientAge, DicomVR.AS, $"{id.Age:D3}Y");
        ds.SetString(DicomTag.BodyPartExamined, DicomVR.CS, "BREAST");
        ds.SetDecimals(DicomTag.KVP, 29);
        ds.SetString(DicomTag.SoftwareVersions, DicomVR.LO, "Pipeline.Imaging MammoPhantom 1");
        ds.SetDecimals(DicomTag.DistanceSourceToDetector, 660);
        ds.SetDecimals(DicomTag.DistanceSourceToPatient, 640);
        ds.SetDecimals(DicomTag.ImagerPixelSpacing, spec.PixelSpacingMm, spec.PixelSpacingMm);
        ds.SetDecimals(DicomTag.BodyPartThickness, 50);
        ds.SetString(DicomTag.PositionerType, DicomVR.CS, "MAMMOGRAPHIC");
        ds.SetString(DicomTag.ViewPosition, DicomVR.CS, spec.View.ToString());
        ds.SetString(DicomTag.DetectorType, DicomVR.CS, "DIRECT");
        ds.SetString(DicomTag.StudyInstanceUID, DicomVR.UI, id.StudyInstanceUid);
        ds.SetString(DicomTag.SeriesInstanceUID, DicomVR.UI, id.SeriesInstanceUid);
        ds.SetString(DicomTag.StudyID, DicomVR.SH, id.StudyId);
        ds.SetInts(DicomTag.SeriesNumber, id.SeriesNumber);
        ds.SetInts(DicomTag.InstanceNumber, id.InstanceNumber);
        // PS3.3 C.8.11.7.1.1 / C.7.6.1.1.1: rows toward the nipple (A for L, P for R stored with chest wall right),
        // columns toward foot (CC: lateral side varies; MLO: F).
        ds.SetStrings(DicomTag.PatientOrientation, DicomVR.CS, spec.Side == BreastSide.L ? "A" : "P",
            spec.View == MammoView.CC ? (spec.Side == BreastSide.L ? "R" : "L") : (spec.Side == BreastSide.L ? "FR" : "FL"));
        ds.SetString(DicomTag.FrameOfReferenceUID, DicomVR.UI, id.FrameOfReferenceUid);
        ds.SetString(DicomTag.ImageLaterality, DicomVR.CS, spec.Side.ToString());
        ds.SetUInt16(DicomTag.SamplesPerPixel, 1);
        ds.SetString(DicomTag.PhotometricInterpretation, DicomVR.CS, id.Monochrome1 ? "MONOCHROME1" : "MONOCHROME2");
        ds.SetUInt16(DicomTag.Rows, (ushort)spec.Rows);
        ds.SetUInt16(DicomTag.Columns, (ushort)spec.Columns);
        ds.SetDecimals(DicomTag.PixelSpacing, spec.PixelSpacingMm, spec.PixelSpacingMm);
        ds.SetUInt16(DicomTag.BitsAllocated, 16);
        ds.SetUInt16(DicomTag.BitsStored, MammoImageSpec.BitsStored);
        ds.SetUInt16(DicomTag.HighBit, MammoImageSpec.BitsStored - 1);
        ds.SetUInt16(DicomTag.PixelRepresentation, 0);
        ds.SetString(DicomTag.QualityControlImage, DicomVR.CS, "NO");
        ds.SetString(DicomTag.BurnedInAnnotation, DicomVR.CS, "NO");
        ushort max = (1 << MammoImageSpec.BitsStored) - 1;
        ushort padding = id.Monochrome1 ? max : (ushort)0;
        ds.SetUInt16(DicomTag.PixelPaddingValue, padding);
        ds.SetString(DicomTag.PixelIntensityRelationship, DicomVR.CS, "LOG");
        ds.SetInt16(DicomTag.PixelIntensityRelationshipSign, id.Monochrome1 ? (short)-1 : (short)1);
        double c1 = image.WindowCenter, c2 = image.WideWindowCenter;
        if (id.Monochrome1) { c1 = max - c1; c2 = max - c2; } // stored = max - v inverts the value axis, widths unchanged
        ds.SetDecimals(DicomTag.WindowCenter, c1, c2);
        ds.SetDecimals(DicomTag.WindowWidth, image.WindowWidth, image.WideWindowWidth);
        ds.SetDecimals(DicomTag.RescaleIntercept, 0);
        ds.SetDecimals(DicomTag.RescaleSlope, 1);
        ds.SetString(DicomTag.RescaleType, DicomVR.LO, "US");
        ds.SetStrings(DicomTag.WindowCenterWidthExplanation, DicomVR.LO, "NORMAL", "WIDE");
        ds.SetString(DicomTag.VOILUTFunction, DicomVR.CS, "LINEAR");
        ds.SetString(DicomTag.LossyImageCompression, DicomVR.CS, "00");
        ds.SetString(DicomTag.BreastImplantPresent, DicomVR.CS, "NO");
        ds.SetString(DicomTag.OrganExposed, DicomVR.CS, "BREAST");
        ds.SetSequence(DicomTag.ViewCodeSequence, spec.View == MammoView.CC
            ? DicomDataset.CodeItem("399162004", "SCT", "cranio-caudal")
            : DicomDataset.CodeItem("399368009", "SCT", "medio-lateral oblique"));

        var pixels = image.Pixels;
        if (id.Monochrome1)
        {
            pixels = (ushort[])pixels.Clone();
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (ushort)(max - pixels[i]);
        }
        ds.SetBytes(DicomTag.PixelData, DicomVR.OW, MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        var meta = new DicomDataset { SourceName = id.SopInstanceUid };
        return new DicomFile(meta, ds, TransferSyntax.ExplicitVRLittleEndian, id.SopInstanceUid);
    }
}
