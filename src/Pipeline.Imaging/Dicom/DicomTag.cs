using System.Globalization;

namespace Pipeline.Imaging.Dicom;

/// <summary>A data element tag (group, element), ordered as PS3.5 section 7.1 requires within a data set.</summary>
public readonly record struct DicomTag(ushort Group, ushort Element) : IComparable<DicomTag>
{
    public uint Value => ((uint)Group << 16) | Element;

    public static DicomTag FromValue(uint value) => new((ushort)(value >> 16), (ushort)(value & 0xFFFF));

    /// <summary>Private tags live in odd groups (PS3.5 section 7.8.1).</summary>
    public bool IsPrivate => (Group & 1) == 1;

    /// <summary>A Private Creator Data Element: (gggg,0010-00FF) in an odd group (PS3.5 section 7.8.1).</summary>
    public bool IsPrivateCreator => IsPrivate && Element is >= 0x0010 and <= 0x00FF;

    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({Group:X4},{Element:X4})");

    /// <summary>Parses "(gggg,eeee)" or "ggggeeee".</summary>
    public static DicomTag Parse(string text)
    {
        var t = text.Trim().Trim('(', ')').Replace(",", "", StringComparison.Ordinal);
        if (t.Length != 8 || !uint.TryParse(t, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v))
            throw new FormatException($"'{text}' is not a DICOM tag; expected (gggg,eeee) in hexadecimal");
        return FromValue(v);
    }

    // Item and delimiters (PS3.5 section 7.5).
    public static readonly DicomTag Item = new(0xFFFE, 0xE000);
    public static readonly DicomTag ItemDelimitationItem = new(0xFFFE, 0xE00D);
    public static readonly DicomTag SequenceDelimitationItem = new(0xFFFE, 0xE0DD);

    // File meta information (PS3.10 section 7.1).
    public static readonly DicomTag FileMetaInformationGroupLength = new(0x0002, 0x0000);
    public static readonly DicomTag FileMetaInformationVersion = new(0x0002, 0x0001);
    public static readonly DicomTag MediaStorageSOPClassUID = new(0x0002, 0x0002);
    public static readonly DicomTag MediaStorageSOPInstanceUID = new(0x0002, 0x0003);
    public static readonly DicomTag TransferSyntaxUID = new(0x0002, 0x0010);
    public static readonly DicomTag ImplementationClassUID = new(0x0002, 0x0012);
    public static readonly DicomTag ImplementationVersionName = new(0x0002, 0x0013);

    public static readonly DicomTag SpecificCharacterSet = new(0x0008, 0x0005);
    public static readonly DicomTag ImageType = new(0x0008, 0x0008);
    public static readonly DicomTag InstanceCreationDate = new(0x0008, 0x0012);
    public static readonly DicomTag InstanceCreationTime = new(0x0008, 0x0013);
    public static readonly DicomTag SOPClassUID = new(0x0008, 0x0016);
    public static readonly DicomTag SOPInstanceUID = new(0x0008, 0x0018);
    public static readonly DicomTag StudyDate = new(0x0008, 0x0020);
    public static readonly DicomTag SeriesDate = new(0x0008, 0x0021);
    public static readonly DicomTag AcquisitionDate = new(0x0008, 0x0022);
    public static readonly DicomTag ContentDate = new(0x0008, 0x0023);
    public static readonly DicomTag AcquisitionDateTime = new(0x0008, 0x002A);
    public static readonly DicomTag StudyTime = new(0x0008, 0x0030);
    public static readonly DicomTag SeriesTime = new(0x0008, 0x0031);
    public static readonly DicomTag AcquisitionTime = new(0x0008, 0x0032);
    public static readonly DicomTag ContentTime = new(0x0008, 0x0033);
    public static readonly DicomTag AccessionNumber = new(0x0008, 0x0050);
    public static readonly DicomTag Modality = new(0x0008, 0x0060);
    public static readonly DicomTag ConversionType = new(0x0008, 0x0064);
    public static readonly DicomTag PresentationIntentType = new(0x0008, 0x0068);
    public static readonly DicomTag Manufacturer = new(0x0008, 0x0070);
    public static readonly DicomTag InstitutionName = new(0x0008, 0x0080);
    public static readonly DicomTag InstitutionAddress = new(0x0008, 0x0081);
    public static readonly DicomTag ReferringPhysicianName = new(0x0008, 0x0090);
    public static readonly DicomTag StationName = new(0x0008, 0x1010);
    public static readonly DicomTag StudyDescription = new(0x0008, 0x1030);
    public static readonly DicomTag SeriesDescription = new(0x0008, 0x103E);
    public static readonly DicomTag InstitutionalDepartmentName = new(0x0008, 0x1040);
    public static readonly DicomTag PerformingPhysicianName = new(0x0008, 0x1050);
    public static readonly DicomTag OperatorsName = new(0x0008, 0x1070);
    public static readonly DicomTag ManufacturerModelName = new(0x0008, 0x1090);
    public static readonly DicomTag ReferencedSOPClassUID = new(0x0008, 0x1150);
    public static readonly DicomTag ReferencedSOPInstanceUID = new(0x0008, 0x1155);
    public static readonly DicomTag SourceImageSequence = new(0x0008, 0x2112);
    public static readonly DicomTag DerivationDescription = new(0x0008, 0x2111);
    public static readonly DicomTag PurposeOfReferenceCodeSequence = new(0x0040, 0xA170);
    public static readonly DicomTag AnatomicRegionSequence = new(0x0008, 0x2218);
    public static readonly DicomTag ViewCodeSequence = new(0x0054, 0x0220);
    public static readonly DicomTag CodeValue = new(0x0008, 0x0100);
    public static readonly DicomTag CodingSchemeDesignator = new(0x0008, 0x0102);
    public static readonly DicomTag CodeMeaning = new(0x0008, 0x0104);

    public static readonly DicomTag PatientName = new(0x0010, 0x0010);
    public static readonly DicomTag PatientID = new(0x0010, 0x0020);
    public static readonly DicomTag PatientBirthDate = new(0x0010, 0x0030);
    public static readonly DicomTag PatientSex = new(0x0010, 0x0040);
    public static readonly DicomTag PatientAge = new(0x0010, 0x1010);
    public static readonly DicomTag PatientIdentityRemoved = new(0x0012, 0x0062);
    public static readonly DicomTag DeidentificationMethod = new(0x0012, 0x0063);

    public static readonly DicomTag BodyPartExamined = new(0x0018, 0x0015);
    public static readonly DicomTag KVP = new(0x0018, 0x0060);
    public static readonly DicomTag DeviceSerialNumber = new(0x0018, 0x1000);
    public static readonly DicomTag SoftwareVersions = new(0x0018, 0x1020);
    public static readonly DicomTag DistanceSourceToDetector = new(0x0018, 0x1110);
    public static readonly DicomTag DistanceSourceToPatient = new(0x0018, 0x1111);
    public static readonly DicomTag ExposureTime = new(0x0018, 0x1150);
    public static readonly DicomTag XRayTubeCurrent = new(0x0018, 0x1151);
    public static readonly DicomTag Exposure = new(0x0018, 0x1152);
    public static readonly DicomTag ImagerPixelSpacing = new(0x0018, 0x1164);
    public static readonly DicomTag BodyPartThickness = new(0x0018, 0x11A0);
    public static readonly DicomTag CompressionForce = new(0x0018, 0x11A2);
    public static readonly DicomTag DetectorType = new(0x0018, 0x7004);
    public static readonly DicomTag ViewPosition = new(0x0018, 0x5101);
    public static readonly DicomTag PositionerType = new(0x0018, 0x1508);
    public static readonly DicomTag AnodeTargetMaterial = new(0x0018, 0x1191);
    public static readonly DicomTag FilterMaterial = new(0x0018, 0x7050);
    public static readonly DicomTag OrganDose = new(0x0040, 0x0316);
    public static readonly DicomTag EntranceDoseInmGy = new(0x0040, 0x8302);
    public static readonly DicomTag OrganExposed = new(0x0040, 0x0318);
    public static readonly DicomTag BreastImplantPresent = new(0x0028, 0x1300);

    public static readonly DicomTag StudyInstanceUID = new(0x0020, 0x000D);
    public static readonly DicomTag SeriesInstanceUID = new(0x0020, 0x000E);
    public static readonly DicomTag StudyID = new(0x0020, 0x0010);
    public static readonly DicomTag SeriesNumber = new(0x0020, 0x0011);
    public static readonly DicomTag AcquisitionNumber = new(0x0020, 0x0012);
    public static readonly DicomTag InstanceNumber = new(0x0020, 0x0013);
    public static readonly DicomTag PatientOrientation = new(0x0020, 0x0020);
    public static readonly DicomTag FrameOfReferenceUID = new(0x0020, 0x0052);
    public static readonly DicomTag Laterality = new(0x0020, 0x0060);
    public static readonly DicomTag ImageLaterality = new(0x0020, 0x0062);
    public static readonly DicomTag ImageComments = new(0x0020, 0x4000);

    public static readonly DicomTag SamplesPerPixel = new(0x0028, 0x0002);
    public static readonly DicomTag PhotometricInterpretation = new(0x0028, 0x0004);
    public static readonly DicomTag NumberOfFrames = new(0x0028, 0x0008);
    public static readonly DicomTag PlanarConfiguration = new(0x0028, 0x0006);
    public static readonly DicomTag Rows = new(0x0028, 0x0010);
    public static readonly DicomTag Columns = new(0x0028, 0x0011);
    public static readonly DicomTag PixelSpacing = new(0x0028, 0x0030);
    public static readonly DicomTag BitsAllocated = new(0x0028, 0x0100);
    public static readonly DicomTag BitsStored = new(0x0028, 0x0101);
    public static readonly DicomTag HighBit = new(0x0028, 0x0102);
    public static readonly DicomTag PixelRepresentation = new(0x0028, 0x0103);
    public static readonly DicomTag QualityControlImage = new(0x0028, 0x0300);
    public static readonly DicomTag BurnedInAnnotation = new(0x0028, 0x0301);
    public static readonly DicomTag PixelIntensityRelationship = new(0x0028, 0x1040);
    public static readonly DicomTag PixelIntensityRelationshipSign = new(0x0028, 0x1041);
    public static readonly DicomTag PixelPaddingValue = new(0x0028, 0x0120);
    public static readonly DicomTag PixelPaddingRangeLimit = new(0x0028, 0x0121);
    public static readonly DicomTag WindowCenter = new(0x0028, 0x1050);
    public static readonly DicomTag WindowWidth = new(0x0028, 0x1051);
    public static readonly DicomTag RescaleIntercept = new(0x0028, 0x1052);
    public static readonly DicomTag RescaleSlope = new(0x0028, 0x1053);
    public static readonly DicomTag RescaleType = new(0x0028, 0x1054);
    public static readonly DicomTag WindowCenterWidthExplanation = new(0x0028, 0x1055);
    public static readonly DicomTag VOILUTFunction = new(0x0028, 0x1056);
    public static readonly DicomTag LossyImageCompression = new(0x0028, 0x2110);
    public static readonly DicomTag LossyImageCompressionRatio = new(0x0028, 0x2112);
    public static readonly DicomTag LossyImageCompressionMethod = new(0x0028, 0x2114);
    public static readonly DicomTag ModalityLUTSequence = new(0x0028, 0x3000);
    public static readonly DicomTag LUTDescriptor = new(0x0028, 0x3002);
    public static readonly DicomTag LUTExplanation = new(0x0028, 0x3003);
    public static readonly DicomTag ModalityLUTType = new(0x0028, 0x3004);
    public static readonly DicomTag LUTData = new(0x0028, 0x3006);
    public static readonly DicomTag VOILUTSequence = new(0x0028, 0x3010);

    public static readonly DicomTag RequestAttributesSequence = new(0x0040, 0x0275);
    // Segmentation (PS3.3 C.8.20) and multi-frame functional groups (C.7.6.16, C.7.6.17), Common Instance Reference (C.12.2).
    public static readonly DicomTag ReferencedSeriesSequence = new(0x0008, 0x1115);
    public static readonly DicomTag ReferencedInstanceSequence = new(0x0008, 0x114A);
    public static readonly DicomTag DerivationImageSequence = new(0x0008, 0x9124);
    public static readonly DicomTag DerivationCodeSequence = new(0x0008, 0x9215);
    public static readonly DicomTag PositionReferenceIndicator = new(0x0020, 0x1040);
    public static readonly DicomTag FrameContentSequence = new(0x0020, 0x9111);
    public static readonly DicomTag PlanePositionSequence = new(0x0020, 0x9113);
    public static readonly DicomTag PlaneOrientationSequence = new(0x0020, 0x9116);
    public static readonly DicomTag DimensionIndexValues = new(0x0020, 0x9157);
    public static readonly DicomTag DimensionOrganizationUID = new(0x0020, 0x9164);
    public static readonly DicomTag DimensionIndexPointer = new(0x0020, 0x9165);
    public static readonly DicomTag FunctionalGroupPointer = new(0x0020, 0x9167);
    public static readonly DicomTag DimensionOrganizationSequence = new(0x0020, 0x9221);
    public static readonly DicomTag DimensionIndexSequence = new(0x0020, 0x9222);
    public static readonly DicomTag DimensionDescriptionLabel = new(0x0020, 0x9421);
    public static readonly DicomTag PixelMeasuresSequence = new(0x0028, 0x9110);
    public static readonly DicomTag SegmentationType = new(0x0062, 0x0001);
    public static readonly DicomTag SegmentSequence = new(0x0062, 0x0002);
    public static readonly DicomTag SegmentedPropertyCategoryCodeSequence = new(0x0062, 0x0003);
    public static readonly DicomTag SegmentNumber = new(0x0062, 0x0004);
    public static readonly DicomTag SegmentLabel = new(0x0062, 0x0005);
    public static readonly DicomTag SegmentDescription = new(0x0062, 0x0006);
    public static readonly DicomTag SegmentAlgorithmType = new(0x0062, 0x0008);
    public static readonly DicomTag SegmentAlgorithmName = new(0x0062, 0x0009);
    public static readonly DicomTag SegmentIdentificationSequence = new(0x0062, 0x000A);
    public static readonly DicomTag ReferencedSegmentNumber = new(0x0062, 0x000B);
    public static readonly DicomTag MaximumFractionalValue = new(0x0062, 0x000E);
    public static readonly DicomTag SegmentedPropertyTypeCodeSequence = new(0x0062, 0x000F);
    public static readonly DicomTag SegmentationFractionalType = new(0x0062, 0x0010);
    public static readonly DicomTag ContentLabel = new(0x0070, 0x0080);
    public static readonly DicomTag ContentDescription = new(0x0070, 0x0081);
    public static readonly DicomTag ContentCreatorName = new(0x0070, 0x0084);
    public static readonly DicomTag SharedFunctionalGroupsSequence = new(0x5200, 0x9229);
    public static readonly DicomTag PerFrameFunctionalGroupsSequence = new(0x5200, 0x9230);
    public static readonly DicomTag PixelData = new(0x7FE0, 0x0010);
    public static readonly DicomTag DataSetTrailingPadding = new(0xFFFC, 0xFFFC);
}
