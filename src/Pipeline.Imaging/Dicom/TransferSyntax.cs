namespace Pipeline.Imaging.Dicom;

/// <summary>A transfer syntax (PS3.5 section 10 and annex A) and how its data set is encoded.</summary>
public sealed record TransferSyntax(string Uid, string Name, bool IsExplicitVR, bool IsBigEndian, bool IsEncapsulated, bool IsDeflated, bool IsLossy)
{
    public static readonly TransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, false, false);
    public static readonly TransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, false, false);
    public static readonly TransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, false, true, false);
    public static readonly TransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian (retired)", true, true, false, false, false);
    public static readonly TransferSyntax JpegBaseline = new("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", true, false, true, false, true);
    public static readonly TransferSyntax JpegExtended = new("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", true, false, true, false, true);
    public static readonly TransferSyntax JpegLossless = new("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", true, false, true, false, false);
    public static readonly TransferSyntax JpegLosslessSV1 = new("1.2.840.10008.1.2.4.70", "JPEG Lossless, First-Order Prediction (Process 14, SV1)", true, false, true, false, false);
    public static readonly TransferSyntax JpegLsLossless = new("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", true, false, true, false, false);
    public static readonly TransferSyntax JpegLsNearLossless = new("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless", true, false, true, false, true);
    public static readonly TransferSyntax Jpeg2000Lossless = new("1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)", true, false, true, false, false);
    public static readonly TransferSyntax Jpeg2000 = new("1.2.840.10008.1.2.4.91", "JPEG 2000", true, false, true, false, true);
    public static readonly TransferSyntax RleLossless = new("1.2.840.10008.1.2.5", "RLE Lossless", true, false, true, false, false);

    public static IReadOnlyList<TransferSyntax> Known { get; } =
    [
        ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, JpegBaseline, JpegExtended,
        JpegLossless, JpegLosslessSV1, JpegLsLossless, JpegLsNearLossless, Jpeg2000Lossless, Jpeg2000, RleLossless,
    ];

    /// <summary>The known syntax with this UID; an unknown UID is treated as an encapsulated Explicit VR Little Endian
    /// syntax (PS3.5 section A.4 requires every other syntax to be one), which the decoder may then reject.</summary>
    public static TransferSyntax FromUid(string uid) =>
        Known.FirstOrDefault(t => t.Uid == uid) ?? new TransferSyntax(uid, $"unknown transfer syntax {uid}", true, false, true, false, false);

    public override string ToString() => $"{Name} ({Uid})";
}
