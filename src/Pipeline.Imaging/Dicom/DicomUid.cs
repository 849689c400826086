using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Imaging.Dicom;

/// <summary>
/// UIDs under the 2.25 root: a UUID written as one unsigned decimal integer (PS3.5 section B.2, ITU-T X.667), at most
/// 44 characters, so always within the 64-character UI limit.
/// </summary>
public static class DicomUid
{
    /// <summary>Implementation Class UID of files this library writes (a fixed name-based UUID of "Pipeline.Imaging").</summary>
    public static readonly string ImplementationClassUid = FromName("pipeline:implementation-class:Pipeline.Imaging");

    public const string ImplementationVersionName = "PIPELINE_1";

    /// <summary>A fresh UID from a random (version 4) UUID.</summary>
    public static string Generate() => FromUuidBytes(Guid.NewGuid().ToByteArray(bigEndian: true));

    /// <summary>
    /// A deterministic UID from a name-based (version 5, SHA-1) UUID of <paramref name="name"/>: the same name always
    /// gives the same UID, so generated datasets are reproducible from their seed and UID remapping is consistent.
    /// </summary>
    public static string FromName(string name)
    {
        // RFC 4122 section 4.3: SHA-1 over namespace || name; this library uses its own fixed namespace UUID.
        var ns = new Guid("6f1c0a6e-3d2b-5c4e-9a1f-2b7d8e9c0a11").ToByteArray(bigEndian: true);
        var data = new byte[ns.Length + Encoding.UTF8.GetByteCount(name)];
        ns.CopyTo(data, 0);
        Encoding.UTF8.GetBytes(name, data.AsSpan(ns.Length));
        var hash = SHA1.HashData(data);
        var uuid = hash.AsSpan(0, 16).ToArray();
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x50); // version 5
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80); // RFC 4122 variant
        return FromUuidBytes(uuid);
    }

    private static string FromUuidBytes(byte[] bigEndianUuid) =>
        "2.25." + new BigInteger(bigEndianUuid, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Whether <paramref name="uid"/> is a valid UID (PS3.5 section 9.1): at most 64 characters, digits and dots,
    /// non-empty components without leading zeros.
    /// </summary>
    public static bool IsValid(string? uid)
    {
        if (string.IsNullOrEmpty(uid) || uid.Length > 64) return false;
        foreach (var part in uid.Split('.'))
        {
            if (part.Length == 0 || (part.Length > 1 && part[0] == '0')) return false;
            foreach (var c in part) if (c is < '0' or > '9') return false;
        }
        return true;
    }
}
