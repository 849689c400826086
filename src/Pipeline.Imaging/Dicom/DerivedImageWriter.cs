using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Pipeline.Core.Contracts;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>Options of <see cref="DerivedImageWriter.Create"/>.</summary>
public sealed class DerivedImageOptions
{
    /// <summary>The sample's lineage, stored in the private block and summarised in Image Comments.</summary>
    public Lineage? Lineage { get; set; }

    /// <summary>Derivation Description (0008,2111).</summary>
    public string DerivationDescription { get; set; } = "Synthetic lesion inserted by reference-guided diffusion inpainting";

    /// <summary>When set, de-identify with this remapper (PS3.15 Basic Profile); the same remapper across a run keeps UIDs consistent.</summary>
    public DicomUidRemapper? Deidentify { get; set; }

    /// <summary>Patient ID pseudonym used with <see cref="Deidentify"/>; default: a hash-derived value of the original.</summary>
    public string? PatientPseudonym { get; set; }

    /// <summary>New Series Instance UID; default a fresh 2.25 UID (one series per run is the caller's choice).</summary>
    public string? SeriesInstanceUid { get; set; }

    /// <summary>New SOP Instance UID; default a fresh 2.25 UID.</summary>
    public string? SopInstanceUid { get; set; }
}

/// <summary>
/// Writes a composited image as a derived instance of its source (PS3.3 C.7.6.1.1.2 Derived images, C.7.6.1.1.4
/// Source Image Sequence): every patient and study attribute kept, new SOP Instance and Series Instance UIDs,
/// Image Type DERIVED\SECONDARY, Derivation Description, Source Image Sequence with purpose of reference (CID 7202)
/// 121322 "Source image for image processing operation", Burned In Annotation NO, the pixel format of the source
/// (16-bit stays 16-bit), and the lineage in a private block (PS3.5 section 7.8) plus a summary in Image Comments.
/// </summary>
public static class DerivedImageWriter
{
    /// <summary>Private Creator of the lineage block (group 0x0011, block 0x10: elements (0011,10xx)).</summary>
    public const string PrivateCreator = "PIPELINE LINEAGE 1";
    public static readonly DicomTag CreatorTag = new(0x0011, 0x0010);
    public static readonly DicomTag LineageJsonTag = new(0x0011, 0x1000);
    public static readonly DicomTag ModelIdTag = new(0x0011, 0x1001);
    public static readonly DicomTag ModelSha256Tag = new(0x0011, 0x1002);
    public static readonly DicomTag SeedTag = new(0x0011, 0x1003);
    public static readonly DicomTag SamplerTag = new(0x0011, 0x1004);
    public static readonly DicomTag ReferenceImageTag = new(0x0011, 0x1005);
    public static readonly DicomTag ReferenceBoxTag = new(0x0011, 0x1006);
    public static readonly DicomTag TargetBoxTag = new(0x0011, 0x1007);

    /// <summary>
    /// The derived file. <paramref name="pixels"/> must have the source's size and sample format: UInt16 for 9-16-bit
    /// unsigned, UInt8 for 8-bit (RGB interleaved for colour).
    /// </summary>
    public static DicomFile Create(DicomFile source, ImageBuffer pixels, DerivedImageOptions options)
    {
        var a = DicomImageAttributes.From(source);
        string item = source.Item;
        if (pixels.Width != a.Columns || pixels.Height != a.Rows || pixels.Channels != a.SamplesPerPixel)
            throw new DicomException(item, $"derived pixels are {pixels.Width}x{pixels.Height}x{pixels.Channels}; the source is {a.Columns}x{a.Rows}x{a.SamplesPerPixel}");
        var expected = a.BitsAllocated == 8 && !a.IsSigned ? PixelType.UInt8 : a.BitsAllocated == 16 && !a.IsSigned ? PixelType.UInt16 : (PixelType?)null;
        if (expected == null) throw new DicomException(item, $"writing derived {a.BitsAllocated}-bit {(a.IsSigned ? "signed" : "unsigned")} images is not supported");
        if (pixels.PixelType != expected) throw new DicomException(item, $"derived pixels are {pixels.PixelType}; the source needs {expected}");

        var ds = source.Dataset.Clone();
        ds.RemoveWhere(t => t.Element == 0x0000); // group lengths are retired (PS3.5 section 7.2)
        string sourceClass = ds.GetString(DicomTag.SOPClassUID) ?? throw new DicomException(item, "source has no SOP Class UID");
        string sourceInstance = ds.GetString(DicomTag.SOPInstanceUID) ?? throw new DicomException(item, "source has no SOP Instance UID");

        var imageType = ds.GetStrings(DicomTag.ImageType);
        var newType = new List<string> { "DERIVED", "SECONDARY" };
        newType.AddRange(imageType.Skip(2)); // value 3+ (e.g. mammography's modifiers) keep their meaning
        ds.SetStrings(DicomTag.ImageType, DicomVR.CS, newType.ToArray());
        ds.SetString(DicomTag.DerivationDescription, DicomVR.ST, Truncate(options.DerivationDescription, 1024));
        var reference = new DicomDataset { TextEncoding = ds.TextEncoding };
        reference.SetString(DicomTag.ReferencedSOPClassUID, DicomVR.UI, sourceClass);
        reference.SetString(DicomTag.ReferencedSOPInstanceUID, DicomVR.UI, sourceInstance);
        reference.SetSequence(DicomTag.PurposeOfReferenceCodeSequence, DicomDataset.CodeItem("121322", "DCM", "Source image for image processing operation"));
        ds.SetSequence(DicomTag.SourceImageSequence, reference);
        ds.SetString(DicomTag.BurnedInAnnotation, DicomVR.CS, "NO");
        string now = DateTime.UtcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture), time = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        ds.SetString(DicomTag.ContentDate, DicomVR.DA, now);
        ds.SetString(DicomTag.ContentTime, DicomVR.TM, time);

        // Pixel data: native Explicit VR Little Endian in the source's format; colour is written as RGB interleaved.
        ds.Remove(DicomTag.PixelData);
        if (a.SamplesPerPixel == 3)
        {
            ds.SetString(DicomTag.PhotometricInterpretation, DicomVR.CS, "RGB");
            ds.SetUInt16(DicomTag.PlanarConfiguration, 0);
        }
        ds.Remove(DicomTag.NumberOfFrames);
        ds.SetBytes(DicomTag.PixelData, a.BitsAllocated == 8 ? DicomVR.OB : DicomVR.OW, pixels.Bytes.ToArray());
        if (source.TransferSyntax.IsLossy) ds.SetString(DicomTag.LossyImageCompression, DicomVR.CS, "01"); // once lossy, always flagged (C.7.6.1.1.5)

        if (options.Deidentify != null)
        {
            string pseudonym = options.PatientPseudonym ?? "ANON" + DicomUid.FromName("patient/" + (ds.GetString(DicomTag.PatientID) ?? ""))[5..21];
            DicomDeidentifier.Apply(ds, options.Deidentify, pseudonym);
        }
        // New identity last, so de-identification cannot map it: fresh UIDs are not patient data.
        ds.SetString(DicomTag.SOPInstanceUID, DicomVR.UI, options.SopInstanceUid ?? DicomUid.Generate());
        ds.SetString(DicomTag.SeriesInstanceUID, DicomVR.UI, options.SeriesInstanceUid ?? DicomUid.Generate());
        foreach (var tag in new[] { DicomTag.SOPInstanceUID, DicomTag.SeriesInstanceUID })
            if (!DicomUid.IsValid(ds.GetString(tag))) throw new DicomException(item, $"{tag} '{ds.GetString(tag)}' is not a valid UID");

        if (options.Lineage is { } lineage)
        {
            WriteLineage(ds, lineage);
            ds.SetString(DicomTag.ImageComments, DicomVR.LT, Truncate(Summary(lineage), 10240));
        }
        ds.SetString(DicomTag.SpecificCharacterSet, DicomVR.CS, ds.TextEncoding == Encoding.UTF8 ? "ISO_IR 192" : "ISO_IR 100");
        var sop = ds.GetString(DicomTag.SOPInstanceUID)!;
        return new DicomFile(new DicomDataset { SourceName = sop }, ds, TransferSyntax.ExplicitVRLittleEndian, sop);
    }

    /// <summary>Writes the lineage private block (creator, JSON, and the main fields as separate elements).</summary>
    internal static void WriteLineage(DicomDataset ds, Lineage lineage)
    {
        ds.SetString(CreatorTag, DicomVR.LO, PrivateCreator);
        ds.SetString(LineageJsonTag, DicomVR.UT, Encoding.UTF8.GetString(PipelineJson.SerializeToUtf8Bytes(lineage)));
        ds.SetString(ModelIdTag, DicomVR.LO, Truncate(lineage.Model.Id, 64));
        ds.SetString(ModelSha256Tag, DicomVR.LT, lineage.Model.Sha256);
        ds.SetString(SeedTag, DicomVR.LO, lineage.Seed.ToString(CultureInfo.InvariantCulture));
        ds.SetString(SamplerTag, DicomVR.LO, Truncate(SamplerText(lineage.Sampler), 64));
        ds.SetString(ReferenceImageTag, DicomVR.LT, lineage.ReferenceImage);
        ds.SetDecimals(ReferenceBoxTag, lineage.ReferenceBox.X0, lineage.ReferenceBox.Y0, lineage.ReferenceBox.X1, lineage.ReferenceBox.Y1);
        ds.SetDecimals(TargetBoxTag, lineage.TargetBox.X0, lineage.TargetBox.Y0, lineage.TargetBox.X1, lineage.TargetBox.Y1);
    }

    /// <summary>The lineage stored in a derived file's private block, or null when it has none.</summary>
    public static Lineage? ReadLineage(DicomFile file)
    {
        var ds = file.Dataset;
        // PS3.5 section 7.8.1: find the block reserved by our creator rather than assuming 0x10.
        for (ushort e = 0x10; e <= 0xFF; e++)
        {
            var creator = ds.GetString(new DicomTag(0x0011, e));
            if (creator != PrivateCreator) continue;
            var json = ds.GetString(new DicomTag(0x0011, (ushort)(e << 8)));
            if (json == null) return null;
            return PipelineJson.Deserialize<Lineage>(Encoding.UTF8.GetBytes(json), $"{file.Item} lineage (0011,{e << 8:X4})");
        }
        return null;
    }

    private static string SamplerText(SamplerSettings s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.Scheduler?.ToString() ?? "default"} steps={s.Steps?.ToString(CultureInfo.InvariantCulture) ?? "default"} cfg={s.Guidance?.ToString(CultureInfo.InvariantCulture) ?? "default"}");

    internal static string Summary(Lineage l) => string.Create(CultureInfo.InvariantCulture,
        $"SYNTHETIC: {l.Mode} of '{l.ClassName}' at [{l.TargetBox.X0:0.#},{l.TargetBox.Y0:0.#},{l.TargetBox.X1:0.#},{l.TargetBox.Y1:0.#}] " +
        $"from {l.ReferenceImage} [{l.ReferenceBox.X0:0.#},{l.ReferenceBox.Y0:0.#},{l.ReferenceBox.X1:0.#},{l.ReferenceBox.Y1:0.#}]; " +
        $"model {l.Model.Id} sha256 {l.Model.Sha256[..Math.Min(12, l.Model.Sha256.Length)]}; seed {l.Seed}; {SamplerText(l.Sampler)}; run {l.RunId} item {l.ItemId}");

    internal static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
