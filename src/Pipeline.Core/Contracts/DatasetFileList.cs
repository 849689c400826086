using System.Collections;

namespace Pipeline.Core.Contracts;

/// <summary>
/// The files of a <see cref="DatasetIndex"/> held compactly, for datasets of hundreds of thousands of files: paths and
/// ETags as UTF-8 (<see cref="CompactText"/>), a lowercase hex SHA-256 as its 32 bytes, content types and open errors
/// stored once each. About 200 bytes per file against about 600 for the same <see cref="DatasetFile"/> records
/// (and 300-400 bytes of index JSON). Reading an entry makes a new, equal <see cref="DatasetFile"/>; the list only grows
/// (<see cref="Add"/>), in the index's order. Serialises as the JSON array of its files (the property's declared type
/// is <see cref="IReadOnlyList{T}"/>), so the index's bytes do not depend on which list holds the files.
/// </summary>
public sealed class DatasetFileList : IReadOnlyList<DatasetFile>
{
    private const byte HasImage = 1, ForProcessing = 2, RawSha = 4;

    private struct Entry
    {
        public TextRef Path, ETag, Sha;
        public long Size;
        public int ContentType, Width, Height, OpenError;
        public byte Flags;
    }

    private readonly CompactText _text = new();
    private readonly StringTable _strings = new();
    private readonly List<byte[]> _hashes = []; // 32 bytes per raw hash, HashesPerChunk per array
    private const int HashesPerChunk = 2048;
    private int _hashCount;
    private Entry[] _entries;
    private int _count;

    public DatasetFileList(int capacity = 0) => _entries = new Entry[Math.Max(4, capacity)];

    /// <summary>A compact copy of <paramref name="files"/> (itself when it is one).</summary>
    public static DatasetFileList From(IEnumerable<DatasetFile> files)
    {
        if (files is DatasetFileList list) return list;
        var result = new DatasetFileList(files is IReadOnlyCollection<DatasetFile> c ? c.Count : 0);
        foreach (var f in files) result.Add(f);
        return result;
    }

    public int Count => _count;

    public void Add(DatasetFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (_count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
        var e = new Entry
        {
            Path = _text.Add(file.Path), ETag = _text.Add(file.ETag), Size = file.Size,
            ContentType = _strings.Add(file.ContentType), OpenError = -1,
        };
        if (IsLowerHex64(file.Sha256))
        {
            if (_hashCount % HashesPerChunk == 0) _hashes.Add(new byte[HashesPerChunk * 32]);
            Convert.FromHexString(file.Sha256, Hash(_hashCount), out _, out _);
            e.Sha = new TextRef(_hashCount++, 0, 32);
            e.Flags |= RawSha;
        }
        else e.Sha = _text.Add(file.Sha256);
        if (file.Image is { } image)
        {
            e.Flags |= HasImage;
            if (image.ForProcessing) e.Flags |= ForProcessing;
            (e.Width, e.Height, e.OpenError) = (image.Width, image.Height, _strings.Add(image.OpenError));
        }
        _entries[_count++] = e;
    }

    public DatasetFile this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
            ref readonly var e = ref _entries[index];
            string sha = (e.Flags & RawSha) != 0 ? Convert.ToHexStringLower(Hash(e.Sha.Chunk)) : _text.Get(e.Sha)!;
            var image = (e.Flags & HasImage) == 0 ? null : new DatasetImageFacts(e.Width, e.Height, (e.Flags & ForProcessing) != 0, _strings.Get(e.OpenError));
            return new DatasetFile(_text.Get(e.Path)!, e.Size, sha, _strings.Get(e.ContentType), _text.Get(e.ETag), image);
        }
    }

    /// <summary>The path of file <paramref name="index"/> without making the rest of its entry.</summary>
    public string PathAt(int index) => (uint)index < (uint)_count ? _text.Get(_entries[index].Path)! : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The size of file <paramref name="index"/>.</summary>
    public long SizeAt(int index) => (uint)index < (uint)_count ? _entries[index].Size : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Every file's path, in order, without making the rest of the entries.</summary>
    public IEnumerable<string> Paths()
    {
        for (int i = 0; i < _count; i++) yield return PathAt(i);
    }

    /// <summary>Ordinal comparison of file <paramref name="index"/>'s path with <paramref name="path"/>, without making a string.</summary>
    public int ComparePath(int index, string path)
    {
        var utf8 = _text.Utf8(_entries[index].Path);
        // UTF-8 byte order is code point order; the index and listings sort ordinally (UTF-16 code units), which agree
        // on every path without characters above U+FFFF, the only ones datasets have here: decode and compare otherwise
        if (!System.Text.Ascii.IsValid(utf8) || !System.Text.Ascii.IsValid(path)) return string.CompareOrdinal(PathAt(index), path);
        int n = Math.Min(utf8.Length, path.Length);
        for (int i = 0; i < n; i++)
            if (utf8[i] != path[i]) return utf8[i] - path[i];
        return utf8.Length - path.Length;
    }

    /// <summary>Ordinal comparison of the paths of files <paramref name="i"/> and <paramref name="j"/>, without making
    /// strings when both are ASCII (<see cref="ComparePath"/>'s order).</summary>
    public int ComparePaths(int i, int j)
    {
        if ((uint)i >= (uint)_count || (uint)j >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(i));
        var a = _text.Utf8(_entries[i].Path);
        var b = _text.Utf8(_entries[j].Path);
        if (!System.Text.Ascii.IsValid(a) || !System.Text.Ascii.IsValid(b)) return string.CompareOrdinal(PathAt(i), PathAt(j));
        return a.SequenceCompareTo(b);
    }

    private Span<byte> Hash(int number) => _hashes[number / HashesPerChunk].AsSpan(number % HashesPerChunk * 32, 32);

    private static bool IsLowerHex64(string s)
    {
        if (s.Length != 64) return false;
        foreach (char c in s) if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f')) return false;
        return true;
    }

    public IEnumerator<DatasetFile> GetEnumerator()
    {
        for (int i = 0; i < _count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
