using Pipeline.Core.Contracts;

namespace Pipeline.Core.Tests.Contracts;

/// <summary>The planner's view of an index's paths: the same answers as a hash set of the paths, without one string per
/// file for a path-sorted compact index; a hash set for anything else.</summary>
public sealed class DatasetPathSetTests
{
    private static DatasetIndex Index(IReadOnlyList<DatasetFile> files) => new() { Dataset = "d", FileCount = files.Count, TotalBytes = 0, Files = files };

    private static DatasetFile File(string path) => new(path, 1, new string('a', 64));

    // ordinal order; the last two are above U+007F and one above U+FFFF (a surrogate pair), where UTF-8 byte order and
    // UTF-16 ordinal order can disagree
    private static readonly string[] Sorted = new[]
    {
        "_index.json", "annotations.csv", "images/a/1.dicom", "images/a/10.dicom", "images/a/2.dicom", "images/b/1.dicom", "images/é/1.dicom", "images/\U0001D49C/1.dicom",
    }.Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void A_sorted_compact_index_answers_as_a_hash_set_of_its_paths()
    {
        var set = DatasetPathSet.Of(Index(DatasetFileList.From(Sorted.Select(File).ToList())));
        Assert.IsType<DatasetPathSet>(set);
        var reference = Sorted.ToHashSet(StringComparer.Ordinal);
        Assert.Equal(reference.Count, set.Count);
        Assert.Equal(Sorted, set.ToArray());
        foreach (var p in Sorted.Concat(["", "images", "images/a/1.dicomx", "images/a/0.dicom", "zzz", "images/\U0001D49D/1.dicom", "Annotations.csv"]))
            Assert.Equal(reference.Contains(p), set.Contains(p));
        string[][] others = [Sorted, Sorted[..3], [.. Sorted, "x"], ["x"], [], [Sorted[0], Sorted[0]]];
        foreach (var other in others)
        {
            Assert.Equal(reference.SetEquals(other), set.SetEquals(other));
            Assert.Equal(reference.IsSubsetOf(other), set.IsSubsetOf(other));
            Assert.Equal(reference.IsSupersetOf(other), set.IsSupersetOf(other));
            Assert.Equal(reference.IsProperSubsetOf(other), set.IsProperSubsetOf(other));
            Assert.Equal(reference.IsProperSupersetOf(other), set.IsProperSupersetOf(other));
            Assert.Equal(reference.Overlaps(other), set.Overlaps(other));
        }
    }

    [Fact]
    public void An_unsorted_or_repeating_or_record_index_gets_a_hash_set()
    {
        var unsorted = DatasetFileList.From(Sorted.Reverse().Select(File).ToList());
        var repeated = DatasetFileList.From(new[] { "a", "b", "b" }.Select(File).ToList());
        var records = Sorted.Select(File).ToList();
        foreach (var files in new IReadOnlyList<DatasetFile>[] { unsorted, repeated, records })
        {
            var set = DatasetPathSet.Of(Index(files));
            Assert.IsType<HashSet<string>>(set);
            Assert.All(files, f => Assert.Contains(f.Path, set));
            Assert.DoesNotContain("missing", set);
        }
    }
}
