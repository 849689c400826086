namespace Pipeline.Imaging.Dicom;

/// <summary>Value Representations of PS3.5 section 6.2.</summary>
public enum DicomVR
{
    AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC, UI, UL, UN, UR, US, UT, UV,
}

/// <summary>Encoding facts about each VR (PS3.5 sections 6.2 and 7.1.2).</summary>
public static class DicomVRInfo
{
    /// <summary>VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 table 7.1-1).</summary>
    public static bool HasLongLength(DicomVR vr) => vr is DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL or DicomVR.OV
        or DicomVR.OW or DicomVR.SQ or DicomVR.SV or DicomVR.UC or DicomVR.UN or DicomVR.UR or DicomVR.UT or DicomVR.UV;

    /// <summary>Character-string VRs; padded with a trailing space to even length (UI pads with NUL).</summary>
    public static bool IsString(DicomVR vr) => vr is DicomVR.AE or DicomVR.AS or DicomVR.CS or DicomVR.DA or DicomVR.DS or DicomVR.DT
        or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.PN or DicomVR.SH or DicomVR.ST or DicomVR.TM or DicomVR.UC
        or DicomVR.UI or DicomVR.UR or DicomVR.UT;

    /// <summary>String VRs whose value may not be split on backslash (PS3.5 section 6.4).</summary>
    public static bool IsSingleValuedText(DicomVR vr) => vr is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR;

    /// <summary>Size in bytes of one binary value that must be byte-swapped between endiannesses; 0 for byte data.</summary>
    public static int SwapUnit(DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.SS or DicomVR.OW or DicomVR.AT => 2,
        DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.FD or DicomVR.OD or DicomVR.SV or DicomVR.UV or DicomVR.OV => 8,
        _ => 0,
    };

    public static bool TryParse(byte a, byte b, out DicomVR vr)
    {
        vr = default;
        if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') return false;
        return Enum.TryParse(new string([(char)a, (char)b]), out vr) && Enum.IsDefined(vr);
    }
}

/// <summary>
/// The VR of the attributes this library touches, needed to read Implicit VR Little Endian data sets (PS3.5 section 7.1.3),
/// where the VR is not in the stream. Unknown standard tags read as UN; the rules for group lengths and private creators
/// come from PS3.5 sections 7.2 and 7.8.1.
/// </summary>
public static class DicomDictionary
{
    private static readonly Dictionary<DicomTag, DicomVR> Known = new()
    {
        [DicomTag.FileMetaInformationVersion] = DicomVR.OB, [DicomTag.MediaStorageSOPClassUID] = DicomVR.UI,
        [DicomTag.MediaStorageSOPInstanceUID] = DicomVR.UI, [DicomTag.TransferSyntaxUID] = DicomVR.UI,
        [DicomTag.ImplementationClassUID] = DicomVR.UI, [DicomTag.ImplementationVersionName] = DicomVR.SH,
        [DicomTag.SpecificCharacterSet] = DicomVR.CS, [DicomTag.ImageType] = DicomVR.CS,
        [DicomTag.InstanceCreationDate] = DicomVR.DA, [DicomTag.InstanceCreationTime] = DicomVR.TM,
        [DicomTag.SOPClassUID] = DicomVR.UI, [DicomTag.SOPInstanceUID] = DicomVR.UI,
        [DicomTag.StudyDate] = DicomVR.DA, [DicomTag.SeriesDate] = DicomVR.DA, [DicomTag.AcquisitionDate] = DicomVR.DA,
        [DicomTag.ContentDate] = DicomVR.DA, [DicomTag.AcquisitionDateTime] = DicomVR.DT, [DicomTag.StudyTime] = DicomVR.TM,
        [DicomTag.SeriesTime] = DicomVR.TM, [DicomTag.AcquisitionTime] = DicomVR.TM, [DicomTag.ContentTime] = DicomVR.TM,
        [DicomTag.AccessionNumber] = DicomVR.SH, [DicomTag.Modality] = DicomVR.CS, [DicomTag.PresentationIntentType] = DicomVR.CS,
        [DicomTag.Manufacturer] = DicomVR.LO, [DicomTag.InstitutionName] = DicomVR.LO, [DicomTag.InstitutionAddress] = DicomVR.ST,
        [DicomTag.ReferringPhysicianName] = DicomVR.PN, [DicomTag.StationName] = DicomVR.SH, [DicomTag.StudyDescription] = DicomVR.LO,
        [DicomTag.SeriesDescription] = DicomVR.LO, [DicomTag.InstitutionalDepartmentName] = DicomVR.LO,
        [DicomTag.PerformingPhysicianName] = DicomVR.PN, [DicomTag.OperatorsName] = DicomVR.PN,
        [DicomTag.ManufacturerModelName] = DicomVR.LO, [DicomTag.ReferencedSOPClassUID] = DicomVR.UI,
        [DicomTag.ReferencedSOPInstanceUID] = DicomVR.UI, [DicomTag.SourceImageSequence] = DicomVR.SQ,
        [DicomTag.DerivationDescription] = DicomVR.ST, [DicomTag.PurposeOfReferenceCodeSequence] = DicomVR.SQ,
        [DicomTag.AnatomicRegionSequence] = DicomVR.SQ, [DicomTag.ViewCodeSequence] = DicomVR.SQ,
        [DicomTag.CodeValue] = DicomVR.SH, [DicomTag.CodingSchemeDesignator] = DicomVR.SH, [DicomTag.CodeMeaning] = DicomVR.LO,
        [DicomTag.PatientName] = DicomVR.PN, [DicomTag.PatientID] = DicomVR.LO, [DicomTag.PatientBirthDate] = DicomVR.DA,
        [DicomTag.PatientSex] = DicomVR.CS, [DicomTag.PatientAge] = DicomVR.AS, [DicomTag.PatientIdentityRemoved] = DicomVR.CS,
        [DicomTag.DeidentificationMethod] = DicomVR.LO, [DicomTag.BodyPartExamined] = DicomVR.CS, [DicomTag.KVP] = DicomVR.DS,
        [DicomTag.DeviceSerialNumber] = DicomVR.LO, [DicomTag.SoftwareVersions] = DicomVR.LO,
        [DicomTag.DistanceSourceToDetector] = DicomVR.DS, [DicomTag.DistanceSourceToPatient] = DicomVR.DS,
        [DicomTag.ExposureTime] = DicomVR.IS, [DicomTag.XRayTubeCurrent] = DicomVR.IS, [DicomTag.Exposure] = DicomVR.IS,
        [DicomTag.ImagerPixelSpacing] = DicomVR.DS, [DicomTag.BodyPartThickness] = DicomVR.DS, [DicomTag.CompressionForce] = DicomVR.DS,
        [DicomTag.DetectorType] = DicomVR.CS, [DicomTag.ViewPosition] = DicomVR.CS, [DicomTag.PositionerType] = DicomVR.CS,
        [DicomTag.AnodeTargetMaterial] = DicomVR.CS, [DicomTag.FilterMaterial] = DicomVR.CS, [DicomTag.OrganDose] = DicomVR.DS,
        [DicomTag.EntranceDoseInmGy] = DicomVR.DS, [DicomTag.OrganExposed] = DicomVR.CS, [DicomTag.BreastImplantPresent] = DicomVR.CS,
        [DicomTag.StudyInstanceUID] = DicomVR.UI, [DicomTag.SeriesInstanceUID] = DicomVR.UI, [DicomTag.StudyID] = DicomVR.SH,
        [DicomTag.SeriesNumber] = DicomVR.IS, [DicomTag.AcquisitionNumber] = DicomVR.IS, [DicomTag.InstanceNumber] = DicomVR.IS,
        [DicomTag.PatientOrientation] = DicomVR.CS, [DicomTag.FrameOfReferenceUID] = DicomVR.UI, [DicomTag.Laterality] = DicomVR.CS,
        [DicomTag.ImageLaterality] = DicomVR.CS, [DicomTag.ImageComments] = DicomVR.LT,
        [DicomTag.SamplesPerPixel] = DicomVR.US, [DicomTag.PhotometricInterpretation] = DicomVR.CS,
        [DicomTag.NumberOfFrames] = DicomVR.IS, [DicomTag.PlanarConfiguration] = DicomVR.US, [DicomTag.Rows] = DicomVR.US,
        [DicomTag.Columns] = DicomVR.US, [DicomTag.PixelSpacing] = DicomVR.DS, [DicomTag.BitsAllocated] = DicomVR.US,
        [DicomTag.BitsStored] = DicomVR.US, [DicomTag.HighBit] = DicomVR.US, [DicomTag.PixelRepresentation] = DicomVR.US,
        [DicomTag.QualityControlImage] = DicomVR.CS, [DicomTag.BurnedInAnnotation] = DicomVR.CS,
        [DicomTag.PixelIntensityRelationship] = DicomVR.CS, [DicomTag.PixelIntensityRelationshipSign] = DicomVR.SS,
        [DicomTag.PixelPaddingValue] = DicomVR.US, [DicomTag.PixelPaddingRangeLimit] = DicomVR.US,
        [DicomTag.WindowCenter] = DicomVR.DS, [DicomTag.WindowWidth] = DicomVR.DS, [DicomTag.RescaleIntercept] = DicomVR.DS,
        [DicomTag.RescaleSlope] = DicomVR.DS, [DicomTag.RescaleType] = DicomVR.LO, [DicomTag.WindowCenterWidthExplanation] = DicomVR.LO,
        [DicomTag.VOILUTFunction] = DicomVR.CS, [DicomTag.LossyImageCompression] = DicomVR.CS,
        [DicomTag.LossyImageCompressionRatio] = DicomVR.DS, [DicomTag.LossyImageCompressionMethod] = DicomVR.CS,
        [DicomTag.ModalityLUTSequence] = DicomVR.SQ, [DicomTag.LUTDescriptor] = DicomVR.US, [DicomTag.LUTExplanation] = DicomVR.LO,
        [DicomTag.ModalityLUTType] = DicomVR.LO, [DicomTag.LUTData] = DicomVR.OW, [DicomTag.VOILUTSequence] = DicomVR.SQ,
        [DicomTag.RequestAttributesSequence] = DicomVR.SQ, [DicomTag.PixelData] = DicomVR.OW,
        [DicomTag.ReferencedSeriesSequence] = DicomVR.SQ,
        [DicomTag.ReferencedInstanceSequence] = DicomVR.SQ,
        [DicomTag.DerivationImageSequence] = DicomVR.SQ,
        [DicomTag.DerivationCodeSequence] = DicomVR.SQ,
        [DicomTag.PositionReferenceIndicator] = DicomVR.LO,
        [DicomTag.FrameContentSequence] = DicomVR.SQ,
        [DicomTag.PlanePositionSequence] = DicomVR.SQ,
        [DicomTag.PlaneOrientationSequence] = DicomVR.SQ,
        [DicomTag.DimensionIndexValues] = DicomVR.UL,
        [DicomTag.DimensionOrganizationUID] = DicomVR.UI,
        [DicomTag.DimensionIndexPointer] = DicomVR.AT,
        [DicomTag.FunctionalGroupPointer] = DicomVR.AT,
        [DicomTag.DimensionOrganizationSequence] = DicomVR.SQ,
        [DicomTag.DimensionIndexSequence] = DicomVR.SQ,
        [DicomTag.DimensionDescriptionLabel] = DicomVR.LO,
        [DicomTag.PixelMeasuresSequence] = DicomVR.SQ,
        [DicomTag.SegmentationType] = DicomVR.CS,
        [DicomTag.SegmentSequence] = DicomVR.SQ,
        [DicomTag.SegmentedPropertyCategoryCodeSequence] = DicomVR.SQ,
        [DicomTag.SegmentNumber] = DicomVR.US,
        [DicomTag.SegmentLabel] = DicomVR.LO,
        [DicomTag.SegmentDescription] = DicomVR.ST,
        [DicomTag.SegmentAlgorithmType] = DicomVR.CS,
        [DicomTag.SegmentAlgorithmName] = DicomVR.LO,
        [DicomTag.SegmentIdentificationSequence] = DicomVR.SQ,
        [DicomTag.ReferencedSegmentNumber] = DicomVR.US,
        [DicomTag.MaximumFractionalValue] = DicomVR.US,
        [DicomTag.SegmentedPropertyTypeCodeSequence] = DicomVR.SQ,
        [DicomTag.SegmentationFractionalType] = DicomVR.CS,
        [DicomTag.ContentLabel] = DicomVR.CS,
        [DicomTag.ContentDescription] = DicomVR.LO,
        [DicomTag.ContentCreatorName] = DicomVR.PN,
        [DicomTag.SharedFunctionalGroupsSequence] = DicomVR.SQ,
        [DicomTag.PerFrameFunctionalGroupsSequence] = DicomVR.SQ,
        [new DicomTag(0x0008, 0x1140)] = DicomVR.SQ, // Referenced Image Sequence
        [new DicomTag(0x0008, 0x1110)] = DicomVR.SQ, // Referenced Study Sequence
        [new DicomTag(0x0008, 0x1111)] = DicomVR.SQ, // Referenced Performed Procedure Step Sequence
        [new DicomTag(0x0008, 0x1120)] = DicomVR.SQ, // Referenced Patient Sequence
        [new DicomTag(0x0040, 0x0260)] = DicomVR.SQ, // Performed Protocol Code Sequence
        [new DicomTag(0x0008, 0x1032)] = DicomVR.SQ, // Procedure Code Sequence
        [new DicomTag(0x0054, 0x0222)] = DicomVR.SQ, // View Modifier Code Sequence
        [new DicomTag(0x0012, 0x0064)] = DicomVR.SQ, // De-identification Method Code Sequence
        [new DicomTag(0x0040, 0xA730)] = DicomVR.SQ, // Content Sequence
        [new DicomTag(0x0088, 0x0200)] = DicomVR.SQ, // Icon Image Sequence
    };

    /// <summary>The VR to assume for <paramref name="tag"/> when the stream does not carry it.</summary>
    public static DicomVR ImplicitVR(DicomTag tag)
    {
        if (Known.TryGetValue(tag, out var vr)) return vr;
        if (tag.Element == 0x0000) return DicomVR.UL; // group length, PS3.5 section 7.2
        if (tag.IsPrivateCreator) return DicomVR.LO;
        return DicomVR.UN;
    }

    /// <summary>Whether the dictionary knows this tag's VR.</summary>
    public static bool TryGetVR(DicomTag tag, out DicomVR vr) => Known.TryGetValue(tag, out vr);
}
