using Pipeline.Core.Contracts;
using Pipeline.Imaging.Ingestion;

namespace Pipeline.Mammography.Planning;

/// <summary>One finding of an annotated image: its class (VinDr finding category) and box.</summary>
public sealed record Finding(string ClassName, BoundingBox Box);

/// <summary>An image of a dataset with its findings (empty = no finding, i.e. healthy). <see cref="Path"/> is the blob path
/// (or the path relative to a local dataset folder); <see cref="Split"/> the annotation file's split, when it has one.</summary>
public sealed record AnnotatedImage(string ImageId, string Path, int Width, int Height, IReadOnlyList<Finding> Findings, string? Split = null);

/// <summary>The planner's view of a dataset: annotation rows (Pipeline.Imaging.Ingestion.DatasetAnnotations, any of its
/// formats) grouped per image, in file order.</summary>
public static class DatasetImages
{
    /// <summary>Groups findings per image; <paramref name="blobPrefix"/> ("datasets/{name}/") makes image paths blob paths.
    /// Images absent from <paramref name="present"/> (not in the dataset index) are left out and, when
    /// <paramref name="missing"/> is given, reported there as "annotation line N: image P is not in the dataset".</summary>
    public static IReadOnlyList<AnnotatedImage> FromFindings(IEnumerable<AnnotatedFinding> findings, string blobPrefix, IReadOnlySet<string> present,
        ICollection<string>? missing = null)
    {
        var order = new List<string>();
        var byImage = new Dictionary<string, (AnnotatedFinding First, List<Finding> Findings)>(StringComparer.Ordinal);
        foreach (var f in findings)
        {
            if (!present.Contains(f.ImagePath))
            {
                missing?.Add($"annotation line {f.Line}: image {f.ImagePath} is not in the dataset (left out)");
                continue;
            }
            if (!byImage.TryGetValue(f.ImagePath, out var entry))
            {
                entry = (f, []);
                byImage[f.ImagePath] = entry;
                order.Add(f.ImagePath);
            }
            if (f.Box is { Length: 4 } b && f.ClassName is { Length: > 0 } c)
                entry.Findings.Add(new Finding(c, new BoundingBox(b[0], b[1], b[2], b[3])));
        }
        return order.Select(p =>
        {
            var (first, list) = byImage[p];
            return new AnnotatedImage(first.ImageId, blobPrefix + p, first.Width ?? 0, first.Height ?? 0, list, first.Split);
        }).ToList();
    }
}
