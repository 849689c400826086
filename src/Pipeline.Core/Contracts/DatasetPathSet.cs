using System.Collections;

namespace Pipeline.Core.Contracts;

/// <summary>
/// The set of an index's file paths without a string per file: a view over a path-sorted <see cref="DatasetFileList"/>
/// whose <see cref="Contains"/> is a binary search with <see cref="DatasetFileList.ComparePath"/> (ordinal, as the index
/// and blob listings sort). What the planner asks of a dataset's paths (is this image there; which annotation file does
/// the root hold) on a 20,000-file index costs no copy of the paths (docs/dicom.md, "Memory at scale"). An index whose
/// files are not in ordinal path order, or held as records, gets an ordinary <see cref="HashSet{T}"/> (<see cref="Of"/>).
/// </summary>
public sealed class DatasetPathSet : IReadOnlySet<string>
{
    private readonly DatasetFileList _files;

    private DatasetPathSet(DatasetFileList files) => _files = files;

    /// <summary>The paths of <paramref name="index"/>'s files as a set: the sorted compact list's view, else a hash set.</summary>
    public static IReadOnlySet<string> Of(DatasetIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (index.Files is DatasetFileList list && IsStrictlySorted(list)) return new DatasetPathSet(list);
        return index.FilePaths().ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Whether every path sorts ordinally after the one before it (so no path repeats).</summary>
    private static bool IsStrictlySorted(DatasetFileList list)
    {
        for (int i = 1; i < list.Count; i++)
            if (list.ComparePaths(i - 1, i) >= 0) return false;
        return true;
    }

    public int Count => _files.Count;

    public bool Contains(string item)
    {
        if (item is null) return false;
        int lo = 0, hi = _files.Count - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            int c = _files.ComparePath(mid, item);
            if (c == 0) return true;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return false;
    }

    public IEnumerator<string> GetEnumerator() => _files.Paths().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool IsProperSubsetOf(IEnumerable<string> other) { var o = Distinct(other); return o.Count > Count && IsSubsetOf(o); }

    public bool IsProperSupersetOf(IEnumerable<string> other) { var o = Distinct(other); return o.Count < Count && o.All(Contains); }

    public bool IsSubsetOf(IEnumerable<string> other)
    {
        var o = Distinct(other);
        foreach (var p in this) if (!o.Contains(p)) return false;
        return true;
    }

    public bool IsSupersetOf(IEnumerable<string> other) => other.All(Contains);

    public bool Overlaps(IEnumerable<string> other) => other.Any(Contains);

    public bool SetEquals(IEnumerable<string> other) { var o = Distinct(other); return o.Count == Count && o.All(Contains); }

    private static HashSet<string> Distinct(IEnumerable<string> other) =>
        other is HashSet<string> h && h.Comparer == StringComparer.Ordinal ? h : new HashSet<string>(other, StringComparer.Ordinal);
}
