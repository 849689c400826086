namespace Pipeline.Imaging.Dicom;

/// <summary>
/// The attributes the pipeline needs from an image, typed. Multi-valued window attributes keep every value
/// (PS3.3 C.11.2.1.2: several windows may be offered; index 0 is the default).
/// </summary>
public sealed record DicomImageAttributes
{
    public required string TransferSyntaxUid { get; init; }
    public string? SopClassUid { get; init; }
    public string? SopInstanceUid { get; init; }
    public string? StudyInstanceUid { get; init; }
    public string? SeriesInstanceUid { get; init; }
    public string? PatientId { get; init; }
    public string? Modality { get; init; }
    public string? ViewPosition { get; init; }
    /// <summary>Image Laterality (0020,0062), or Laterality (0020,0060) when the former is absent.</summary>
    public string? ImageLaterality { get; init; }
    public string? PresentationIntentType { get; init; }
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    public int NumberOfFrames { get; init; } = 1;
    public required int SamplesPerPixel { get; init; }
    public required string PhotometricInterpretation { get; init; }
    public int PlanarConfiguration { get; init; }
    public required int BitsAllocated { get; init; }
    public required int BitsStored { get; init; }
    public required int HighBit { get; init; }
    public required int PixelRepresentation { get; init; }
    /// <summary>Pixel Spacing (0028,0030) as [row spacing, column spacing] in mm, when present.</summary>
    public double[]? PixelSpacing { get; init; }
    /// <summary>Imager Pixel Spacing (0018,1164) in mm, when present (projection radiography).</summary>
    public double[]? ImagerPixelSpacing { get; init; }
    public double RescaleSlope { get; init; } = 1;
    public double RescaleIntercept { get; init; }
    public bool HasModalityLutSequence { get; init; }
    public double[] WindowCenters { get; init; } = [];
    public double[] WindowWidths { get; init; } = [];
    public string[] WindowExplanations { get; init; } = [];
    /// <summary>VOI LUT Function (0028,1056): LINEAR (default), LINEAR_EXACT or SIGMOID.</summary>
    public string VoiLutFunction { get; init; } = "LINEAR";
    public int VoiLutSequenceItems { get; init; }
    public double? PixelPaddingValue { get; init; }
    public double? PixelPaddingRangeLimit { get; init; }

    public bool IsSigned => PixelRepresentation == 1;
    public bool IsMonochrome1 => PhotometricInterpretation == "MONOCHROME1";
    public bool IsMonochrome => PhotometricInterpretation is "MONOCHROME1" or "MONOCHROME2";
    /// <summary>"FOR PROCESSING" images (raw detector data, PS3.3 C.8.11.1.1.1) are not meant for display or annotation.</summary>
    public bool IsForProcessing => string.Equals(PresentationIntentType, "FOR PROCESSING", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads and checks the attributes; throws <see cref="DicomException"/> naming the attribute when one is missing or inconsistent.</summary>
    public static DicomImageAttributes From(DicomFile file)
    {
        var ds = file.Dataset;
        string item = file.Item;
        int Required(DicomTag tag, string name) => ds.GetInt(tag) ?? throw new DicomException(item, $"missing {name} {tag}; not an image");
        int rows = Required(DicomTag.Rows, "Rows"), columns = Required(DicomTag.Columns, "Columns");
        int bitsAllocated = Required(DicomTag.BitsAllocated, "Bits Allocated");
        int bitsStored = ds.GetInt(DicomTag.BitsStored) ?? bitsAllocated;
        int highBit = ds.GetInt(DicomTag.HighBit) ?? bitsStored - 1;
        int spp = ds.GetInt(DicomTag.SamplesPerPixel) ?? 1;
        int pixelRepresentation = ds.GetInt(DicomTag.PixelRepresentation) ?? 0;
        string photometric = ds.GetString(DicomTag.PhotometricInterpretation)?.ToUpperInvariant() ?? (spp == 1 ? "MONOCHROME2" : "RGB");
        int frames = ds.GetInt(DicomTag.NumberOfFrames) ?? 1;
        if (rows <= 0 || columns <= 0) throw new DicomException(item, $"image size {columns}x{rows} is not positive");
        if (bitsAllocated is not (8 or 16 or 32)) throw new DicomException(item, $"Bits Allocated {bitsAllocated} is not supported (8, 16 or 32)");
        if (bitsStored < 1 || bitsStored > bitsAllocated) throw new DicomException(item, $"Bits Stored {bitsStored} is outside 1..{bitsAllocated} (Bits Allocated)");
        if (highBit != bitsStored - 1) throw new DicomException(item, $"High Bit {highBit} is not Bits Stored - 1 = {bitsStored - 1} (PS3.5 section 8.1.1)");
        if (spp is not (1 or 3)) throw new DicomException(item, $"Samples per Pixel {spp} is not supported (1 or 3)");
        if (pixelRepresentation is not (0 or 1)) throw new DicomException(item, $"Pixel Representation {pixelRepresentation} must be 0 or 1");
        if (frames < 1) throw new DicomException(item, $"Number of Frames {frames} must be at least 1");
        var centers = ds.GetDoubles(DicomTag.WindowCenter);
        var widths = ds.GetDoubles(DicomTag.WindowWidth);
        double[]? Spacing(DicomTag tag)
        {
            var v = ds.GetDoubles(tag);
            return v.Length >= 2 && v[0] > 0 && v[1] > 0 ? v[..2] : null;
        }
        return new DicomImageAttributes
        {
            TransferSyntaxUid = file.TransferSyntax.Uid,
            SopClassUid = ds.GetString(DicomTag.SOPClassUID),
            SopInstanceUid = ds.GetString(DicomTag.SOPInstanceUID),
            StudyInstanceUid = ds.GetString(DicomTag.StudyInstanceUID),
            SeriesInstanceUid = ds.GetString(DicomTag.SeriesInstanceUID),
            PatientId = ds.GetString(DicomTag.PatientID),
            Modality = ds.GetString(DicomTag.Modality),
            ViewPosition = ds.GetString(DicomTag.ViewPosition),
            ImageLaterality = ds.GetString(DicomTag.ImageLaterality) ?? ds.GetString(DicomTag.Laterality),
            PresentationIntentType = ds.GetString(DicomTag.PresentationIntentType),
            Rows = rows, Columns = columns, NumberOfFrames = frames, SamplesPerPixel = spp,
            PhotometricInterpretation = photometric,
            PlanarConfiguration = ds.GetInt(DicomTag.PlanarConfiguration) ?? 0,
            BitsAllocated = bitsAllocated, BitsStored = bitsStored, HighBit = highBit, PixelRepresentation = pixelRepresentation,
            PixelSpacing = Spacing(DicomTag.PixelSpacing),
            ImagerPixelSpacing = Spacing(DicomTag.ImagerPixelSpacing),
            RescaleSlope = ds.GetDouble(DicomTag.RescaleSlope) ?? 1,
            RescaleIntercept = ds.GetDouble(DicomTag.RescaleIntercept) ?? 0,
            HasModalityLutSequence = ds.GetSequence(DicomTag.ModalityLUTSequence).Count > 0,
            WindowCenters = centers,
            WindowWidths = widths,
            WindowExplanations = ds.GetStrings(DicomTag.WindowCenterWidthExplanation),
            VoiLutFunction = ds.GetString(DicomTag.VOILUTFunction)?.ToUpperInvariant() ?? "LINEAR",
            VoiLutSequenceItems = ds.GetSequence(DicomTag.VOILUTSequence).Count,
            PixelPaddingValue = ReadPadding(ds, DicomTag.PixelPaddingValue, pixelRepresentation),
            PixelPaddingRangeLimit = ReadPadding(ds, DicomTag.PixelPaddingRangeLimit, pixelRepresentation),
        };
    }

    /// <summary>US or SS by Pixel Representation (PS3.3 C.7.5.1.1.2); implicit-VR files carry the raw 16 bits.</summary>
    private static double? ReadPadding(DicomDataset ds, DicomTag tag, int pixelRepresentation)
    {
        var bytes = ds.GetBytes(tag);
        if (bytes.Length < 2) return null;
        ushort raw = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes.Span);
        return pixelRepresentation == 1 ? (short)raw : raw;
    }
}
