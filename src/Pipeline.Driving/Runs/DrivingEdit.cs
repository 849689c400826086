using System.Globalization;
using Pipeline.Core.Contracts;
using Pipeline.Driving.Geometry;

namespace Pipeline.Driving.Runs;

/// <summary>
/// A driving item's own fields, kept in <see cref="WorkItem.Details"/> (docs/driving.md, "Runs"): the dataset version,
/// the key frame, the destination 3D box (global frame), the object it replaces (replacement, reinsertion), the reference
/// object (empty: remove / empty box), and the nuScenes category of the object written.
/// </summary>
public sealed record DrivingEdit(string Version, string Sample, Box3 Box, string? Annotation, string? Reference, string? ReferenceSample, string Category)
{
    public IReadOnlyDictionary<string, string> ToDetails()
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["version"] = Version, ["sample"] = Sample, ["box"] = FormatBox(Box), ["category"] = Category,
        };
        if (Annotation is not null) d["annotation"] = Annotation;
        if (Reference is not null) d["reference"] = Reference;
        if (ReferenceSample is not null) d["referenceSample"] = ReferenceSample;
        return d;
    }

    public static DrivingEdit Of(WorkItem item)
    {
        var d = item.Details ?? throw new InvalidDataException($"item {item.ItemId} has no driving details (sample, box)");
        string Get(string k) => d.TryGetValue(k, out var v) ? v : throw new InvalidDataException($"item {item.ItemId}: details lack '{k}'");
        return new DrivingEdit(Get("version"), Get("sample"), ParseBox(Get("box"), item.ItemId), d.GetValueOrDefault("annotation"),
            d.GetValueOrDefault("reference"), d.GetValueOrDefault("referenceSample"), Get("category"));
    }

    /// <summary>"cx cy cz w l h qw qx qy qz" (invariant, round-trip).</summary>
    public static string FormatBox(Box3 b) => string.Join(' ', new[]
    {
        b.Center.X, b.Center.Y, b.Center.Z, b.Width, b.Length, b.Height, b.Rotation.W, b.Rotation.X, b.Rotation.Y, b.Rotation.Z,
    }.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    public static Box3 ParseBox(string text, string item)
    {
        var v = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        if (v.Length != 10) throw new InvalidDataException($"item {item}: a box needs 10 numbers, got '{text}'");
        return new Box3(new Vector3d(v[0], v[1], v[2]), v[3], v[4], v[5], new Quaternion(v[6], v[7], v[8], v[9]));
    }
}
