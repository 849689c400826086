namespace Pipeline.Imaging.Dicom;

/// <summary>One segment of a Segmentation (PS3.3 C.8.20.2, Segment Description Macro C.8.20.2.1 / table 10-25).</summary>
public sealed record SegmentDescription(int Number, string Label, string? Description, string? AlgorithmType,
    string? CategoryCodeMeaning, string? TypeCodeMeaning)
{
    /// <summary>The name to use as a finding class: the Segment Label, else the Segmented Property Type's meaning.</summary>
    public string ClassName => Label.Length > 0 ? Label : TypeCodeMeaning ?? $"segment {Number}";
}

/// <summary>
/// One frame of a Segmentation: the segment it belongs to (Segment Identification Sequence), the image it was derived
/// from (Derivation Image Sequence / Source Image Sequence, or the single instance of the Common Instance Reference)
/// and its mask, one byte per pixel (1 inside the segment, 0 outside), row-major.
/// </summary>
public sealed record SegmentationFrame(int Index, int SegmentNumber, string? ReferencedSopInstanceUid, byte[] Mask)
{
    /// <summary>The bounding box of the mask's set pixels as [x0, y0, x1, y1) in pixels, or null for an empty frame.</summary>
    public double[]? BoundingBox(int columns)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
        for (int i = 0; i < Mask.Length; i++)
        {
            if (Mask[i] == 0) continue;
            int y = i / columns, x = i - y * columns;
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            y1 = y;
        }
        return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
    }
}

/// <summary>
/// A DICOM Segmentation object (Segmentation IOD, PS3.3 A.51; Segmentation Storage 1.2.840.10008.5.1.4.1.1.66.4) read
/// as masks: BINARY segmentations with Bits Allocated 1 (pixels packed eight to a byte, least significant bit first,
/// frames following each other without padding: PS3.5 section 8.1.1 and annex D), and FRACTIONAL ones with 8 bits
/// (a pixel belongs to the segment when its value is at least half the Maximum Fractional Value). Native (uncompressed)
/// pixel data only; an encapsulated Segmentation is refused naming its transfer syntax.
/// Every inconsistency (pixel data shorter or longer than Rows x Columns x Number of Frames bits, per-frame functional
/// groups not one per frame, a frame naming an undeclared segment) is a <see cref="DicomException"/> naming the file.
/// </summary>
public sealed class DicomSegmentation
{
    public const string SopClassUid = "1.2.840.10008.5.1.4.1.1.66.4";

    private DicomSegmentation(DicomFile file, int rows, int columns, string type, IReadOnlyList<SegmentDescription> segments,
        IReadOnlyList<SegmentationFrame> frames, IReadOnlyList<string> referencedInstances)
    {
        File = file; Rows = rows; Columns = columns; SegmentationType = type; Segments = segments; Frames = frames;
        ReferencedInstances = referencedInstances;
    }

    public DicomFile File { get; }
    public int Rows { get; }
    public int Columns { get; }
    /// <summary>BINARY or FRACTIONAL (Segmentation Type (0062,0001)).</summary>
    public string SegmentationType { get; }
    public IReadOnlyList<SegmentDescription> Segments { get; }
    public IReadOnlyList<SegmentationFrame> Frames { get; }
    /// <summary>SOP Instance UIDs listed in the Referenced Series Sequence (Common Instance Reference Module, C.12.2).</summary>
    public IReadOnlyList<string> ReferencedInstances { get; }

    /// <summary>Whether a parsed data set is a Segmentation (by SOP Class UID).</summary>
    public static bool IsSegmentation(DicomDataset dataset) => dataset.GetString(DicomTag.SOPClassUID) == SopClassUid;

    public static DicomSegmentation Open(string path, DicomPixelLimits? limits = null) =>
        Read(System.IO.File.ReadAllBytes(path), path, limits);

    public static DicomSegmentation Read(ReadOnlyMemory<byte> bytes, string item, DicomPixelLimits? limits = null) =>
        From(DicomFile.Read(bytes, item), limits);

    /// <summary>Reads the masks of a parsed Segmentation, checking the header against <paramref name="limits"/> first.</summary>
    public static DicomSegmentation From(DicomFile file, DicomPixelLimits? limits = null)
    {
        limits ??= DicomPixelLimits.Default;
        var ds = file.Dataset;
        string item = file.Item;
        if (!IsSegmentation(ds))
            throw new DicomException(item, $"SOP Class UID {ds.GetString(DicomTag.SOPClassUID) ?? "(none)"} is not Segmentation Storage ({SopClassUid})");
        int Required(DicomTag tag, string name) => ds.GetInt(tag) ?? throw new DicomException(item, $"Segmentation without {name} {tag}");
        int rows = Required(DicomTag.Rows, "Rows"), columns = Required(DicomTag.Columns, "Columns");
        int bitsAllocated = Required(DicomTag.BitsAllocated, "Bits Allocated");
        int frames = ds.GetInt(DicomTag.NumberOfFrames) ?? 1;
        int samples = ds.GetInt(DicomTag.SamplesPerPixel) ?? 1;
        string type = ds.GetString(DicomTag.SegmentationType)?.ToUpperInvariant() ?? "BINARY";
        if (rows <= 0 || columns <= 0 || frames < 1) throw new DicomException(item, $"Segmentation of {columns}x{rows} pixels and {frames} frame(s) is empty");
        if (samples != 1) throw new DicomException(item, $"Segmentation with Samples per Pixel {samples}; PS3.3 C.8.20.2 requires 1");
        limits.Check(item, rows, columns, samples, frames, bitsAllocated);
        int expectedBits = type switch
        {
            "BINARY" => 1,
            "FRACTIONAL" => 8,
            _ => throw new DicomException(item, $"Segmentation Type '{type}' is not BINARY or FRACTIONAL (PS3.3 C.8.20.2)"),
        };
        if (bitsAllocated != expectedBits)
            throw new DicomException(item, $"{type} Segmentation with Bits Allocated {bitsAllocated}; PS3.3 C.8.20.2 requires {expectedBits}");

        var segments = ds.GetSequence(DicomTag.SegmentSequence).Select(s => new SegmentDescription(
            s.GetInt(DicomTag.SegmentNumber) ?? throw new DicomException(item, "a Segment Sequence item without Segment Number (0062,0004)"),
            s.GetString(DicomTag.SegmentLabel) ?? "",
            s.GetString(DicomTag.SegmentDescription),
            s.GetString(DicomTag.SegmentAlgorithmType),
            CodeMeaning(s, DicomTag.SegmentedPropertyCategoryCodeSequence),
            CodeMeaning(s, DicomTag.SegmentedPropertyTypeCodeSequence))).ToList();
        if (segments.Count == 0) throw new DicomException(item, "Segmentation without a Segment Sequence (0062,0002)");
        var numbers = segments.Select(s => s.Number).ToHashSet();
        if (numbers.Count != segments.Count) throw new DicomException(item, "Segment Sequence repeats a Segment Number");

        var referenced = ds.GetSequence(DicomTag.ReferencedSeriesSequence)
            .SelectMany(series => series.GetSequence(DicomTag.ReferencedInstanceSequence))
            .Select(i => i.GetString(DicomTag.ReferencedSOPInstanceUID)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

        var shared = ds.GetSequence(DicomTag.SharedFunctionalGroupsSequence).FirstOrDefault();
        var perFrame = ds.GetSequence(DicomTag.PerFrameFunctionalGroupsSequence);
        // One item per frame (PS3.3 C.7.6.16). Fewer is an error; more is tolerated and the extra items ignored, as
        // pydicom does: its own liver_1frame.dcm keeps the 3 items of the 3-frame original it was cut from.
        if (perFrame.Count != 0 && perFrame.Count < frames)
            throw new DicomException(item, $"Per-frame Functional Groups Sequence has {perFrame.Count} item(s) for {frames} frame(s) (PS3.3 C.7.6.16: one per frame)");

        var pixel = ds[DicomTag.PixelData] ?? throw new DicomException(item, "Segmentation without Pixel Data (7FE0,0010)");
        if (pixel.IsEncapsulated)
            throw new DicomException(item, $"encapsulated Segmentation pixel data ({file.TransferSyntax}) is not supported; convert it to Explicit VR Little Endian (e.g. dcmdjpeg / gdcmconv --raw)");
        var data = pixel.Data.Span;
        int framePixels = rows * columns;
        long neededBits = (long)framePixels * frames * bitsAllocated;
        long needed = (neededBits + 7) / 8;
        // The value is padded to even length (PS3.5 section 7.1.1): one spare byte is allowed, no more.
        if (data.Length < needed || data.Length > needed + (needed & 1))
            throw new DicomException(item, $"Pixel Data holds {data.Length} bytes but {frames} frame(s) of {columns}x{rows} at {bitsAllocated} bit(s) need {needed}: the frames do not match the declared size");

        int maxFractional = ds.GetInt(DicomTag.MaximumFractionalValue) ?? 255;
        if (expectedBits == 8 && maxFractional is < 1 or > 255)
            throw new DicomException(item, $"Maximum Fractional Value {maxFractional} is outside 1..255");
        var list = new List<SegmentationFrame>(frames);
        for (int f = 0; f < frames; f++)
        {
            var groups = perFrame.Count > 0 ? perFrame[f] : null;
            int segment = SegmentNumberOf(groups) ?? SegmentNumberOf(shared)
                ?? (segments.Count == 1 ? segments[0].Number : throw new DicomException(item, $"frame {f + 1} has no Segment Identification Sequence (0062,000A) and there are {segments.Count} segments"));
            if (!numbers.Contains(segment)) throw new DicomException(item, $"frame {f + 1} refers to segment {segment}, which the Segment Sequence does not declare");
            string? source = SourceOf(groups) ?? SourceOf(shared) ?? (referenced.Count == 1 ? referenced[0] : null);
            var mask = new byte[framePixels];
            if (expectedBits == 1) UnpackBits(data, (long)f * framePixels, mask);
            else
            {
                int threshold = (maxFractional + 1) / 2;
                var frame = data.Slice(f * framePixels, framePixels);
                for (int i = 0; i < framePixels; i++) mask[i] = frame[i] >= threshold ? (byte)1 : (byte)0;
            }
            list.Add(new SegmentationFrame(f, segment, source, mask));
        }
        return new DicomSegmentation(file, rows, columns, type, segments, list, referenced);
    }

    /// <summary>Bit <paramref name="firstBit"/> + i of the stream is pixel i; bit k of a byte is its 2^k bit (PS3.5 section 8.1.1).</summary>
    internal static void UnpackBits(ReadOnlySpan<byte> data, long firstBit, Span<byte> mask)
    {
        for (int i = 0; i < mask.Length; i++)
        {
            long bit = firstBit + i;
            mask[i] = (byte)((data[(int)(bit >> 3)] >> (int)(bit & 7)) & 1);
        }
    }

    /// <summary>Packs a 0/1 mask (frames concatenated) eight pixels to a byte, least significant bit first, padded to even length.</summary>
    public static byte[] PackBits(ReadOnlySpan<byte> mask)
    {
        int bytes = (mask.Length + 7) / 8;
        var packed = new byte[bytes + (bytes & 1)];
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] != 0) packed[i >> 3] |= (byte)(1 << (i & 7));
        return packed;
    }

    private static int? SegmentNumberOf(DicomDataset? groups) =>
        groups?.GetSequence(DicomTag.SegmentIdentificationSequence).FirstOrDefault()?.GetInt(DicomTag.ReferencedSegmentNumber);

    private static string? SourceOf(DicomDataset? groups) =>
        groups?.GetSequence(DicomTag.DerivationImageSequence)
            .SelectMany(d => d.GetSequence(DicomTag.SourceImageSequence))
            .Select(s => s.GetString(DicomTag.ReferencedSOPInstanceUID)).FirstOrDefault(u => u != null);

    private static string? CodeMeaning(DicomDataset item, DicomTag sequence) =>
        item.GetSequence(sequence).FirstOrDefault()?.GetString(DicomTag.CodeMeaning);
}
