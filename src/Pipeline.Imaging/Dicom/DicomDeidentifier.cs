namespace Pipeline.Imaging.Dicom;

/// <summary>
/// Consistent UID replacement within a run (PS3.15 E.1-1 action "U"): the same original UID always maps to the same new
/// 2.25 UID, derived from a run-specific salt and the original, so references between objects stay intact and nothing
/// of the original UID (which may embed dates or device serials) leaks. Standard UIDs (1.2.840.10008.*: SOP classes,
/// transfer syntaxes, coding schemes) are kept.
/// </summary>
public sealed class DicomUidRemapper(string salt)
{
    private readonly Dictionary<string, string> _map = new(StringComparer.Ordinal);

    public string Map(string uid)
    {
        if (uid.StartsWith("1.2.840.10008.", StringComparison.Ordinal)) return uid;
        lock (_map)
        {
            if (!_map.TryGetValue(uid, out var mapped)) _map[uid] = mapped = DicomUid.FromName($"deid/{salt}/{uid}");
            return mapped;
        }
    }

    public IReadOnlyDictionary<string, string> Mappings { get { lock (_map) return new Dictionary<string, string>(_map); } }
}

/// <summary>
/// De-identification following the PS3.15 Annex E Basic Application Level Confidentiality Profile (table E.1-1, without
/// retention options) for the attributes that occur in projection radiography: identifying attributes removed (X) or
/// emptied (Z), Patient ID replaced by a pseudonym (D), every non-standard UID replaced consistently (U), all private
/// attributes removed, then Patient Identity Removed = YES and the De-identification Method recorded (PS3.15 E.1.1).
/// </summary>
public static class DicomDeidentifier
{
    /// <summary>Attributes emptied (Z: type 2 in most IODs, so present with zero length).</summary>
    private static readonly DicomTag[] Emptied =
    [
        DicomTag.PatientName, DicomTag.PatientBirthDate, DicomTag.ReferringPhysicianName, DicomTag.AccessionNumber,
        DicomTag.StudyID, DicomTag.StudyDate, DicomTag.StudyTime, DicomTag.ContentDate, DicomTag.ContentTime,
    ];

    /// <summary>Attributes removed (X).</summary>
    private static readonly DicomTag[] Removed =
    [
        DicomTag.InstitutionName, DicomTag.InstitutionAddress, DicomTag.StationName, DicomTag.InstitutionalDepartmentName,
        DicomTag.PerformingPhysicianName, DicomTag.OperatorsName, DicomTag.PatientAge, DicomTag.DeviceSerialNumber,
        DicomTag.SeriesDate, DicomTag.SeriesTime, DicomTag.AcquisitionDate, DicomTag.AcquisitionTime, DicomTag.AcquisitionDateTime,
        DicomTag.InstanceCreationDate, DicomTag.InstanceCreationTime, DicomTag.ImageComments, DicomTag.RequestAttributesSequence,
        DicomTag.StudyDescription, DicomTag.SeriesDescription,
        new(0x0008, 0x0092), // Referring Physician's Address
        new(0x0008, 0x0094), // Referring Physician's Telephone Numbers
        new(0x0008, 0x1048), // Physician(s) of Record
        new(0x0008, 0x1060), // Name of Physician(s) Reading Study
        new(0x0008, 0x1080), // Admitting Diagnoses Description
        new(0x0010, 0x0032), // Patient's Birth Time
        new(0x0010, 0x1000), // Other Patient IDs
        new(0x0010, 0x1001), // Other Patient Names
        new(0x0010, 0x1002), // Other Patient IDs Sequence
        new(0x0010, 0x1005), // Patient's Birth Name
        new(0x0010, 0x1020), // Patient's Size
        new(0x0010, 0x1030), // Patient's Weight
        new(0x0010, 0x1040), // Patient's Address
        new(0x0010, 0x1060), // Patient's Mother's Birth Name
        new(0x0010, 0x1080), // Military Rank
        new(0x0010, 0x2154), // Patient's Telephone Numbers
        new(0x0010, 0x2160), // Ethnic Group
        new(0x0010, 0x21B0), // Additional Patient History
        new(0x0010, 0x4000), // Patient Comments
        new(0x0020, 0x4000), // Image Comments
        new(0x0032, 0x1032), // Requesting Physician
        new(0x0032, 0x1060), // Requested Procedure Description
        new(0x0040, 0x0244), // Performed Procedure Step Start Date
        new(0x0040, 0x0245), // Performed Procedure Step Start Time
        new(0x0040, 0x0253), // Performed Procedure Step ID
        new(0x0040, 0x0254), // Performed Procedure Step Description
        new(0x0040, 0xA124), // UID
        new(0x0088, 0x0140), // Storage Media File-set UID
    ];

    public const string MethodDescription = "PS3.15 Basic Application Level Confidentiality Profile (Pipeline.Imaging)";

    /// <summary>De-identifies <paramref name="dataset"/> in place; <paramref name="pseudonym"/> replaces Patient ID.</summary>
    public static void Apply(DicomDataset dataset, DicomUidRemapper uids, string pseudonym)
    {
        Walk(dataset, uids, depth: 0);
        foreach (var t in Emptied) if (dataset.Contains(t)) dataset.SetBytes(t, dataset[t]!.VR, ReadOnlyMemory<byte>.Empty);
        dataset.SetString(DicomTag.PatientID, DicomVR.LO, pseudonym);
        dataset.SetString(DicomTag.PatientIdentityRemoved, DicomVR.CS, "YES");
        dataset.SetString(DicomTag.DeidentificationMethod, DicomVR.LO, MethodDescription);
        dataset.SetSequence(new DicomTag(0x0012, 0x0064), DicomDataset.CodeItem("113100", "DCM", "Basic Application Confidentiality Profile"));
    }

    private static void Walk(DicomDataset ds, DicomUidRemapper uids, int depth)
    {
        ds.RemoveWhere(t => t.IsPrivate || Array.IndexOf(Removed, t) >= 0);
        foreach (var e in ds.Elements.ToList())
        {
            if (e.Items != null) { foreach (var item in e.Items) Walk(item, uids, depth + 1); continue; }
            if (e.VR == DicomVR.UI && e.Tag != DicomTag.TransferSyntaxUID)
            {
                var values = ds.GetStrings(e.Tag);
                if (values.Length > 0) ds.SetStrings(e.Tag, DicomVR.UI, values.Select(uids.Map).ToArray());
            }
        }
    }
}
