using System.Text;

namespace Pipeline.Core.Contracts;

/// <summary>
/// Strings kept as UTF-8 in 64 KB chunks (a path of 80 ASCII characters costs 80 bytes here, against about 180 as a .NET
/// string with its object header), each addressed by a <see cref="TextRef"/>; the arena only grows. Chunks never move, so
/// adding never copies what is stored (no doubling, no large-object-heap garbage). Used by the compact lists of the
/// dataset index (<see cref="DatasetFileList"/>, <see cref="DatasetFindingList"/>), whose size grows with the dataset.
/// Not thread-safe for writers.
/// </summary>
internal sealed class CompactText
{
    private const int ChunkSize = 1 << 16;
    private readonly List<byte[]> _chunks = [];
    private readonly List<byte[]> _long = []; // strings over a quarter chunk, one array each (TextRef.Chunk = -1 - index)
    private int _used = ChunkSize; // bytes used in the last chunk (full: the first Add opens one)

    public TextRef Add(string? value)
    {
        if (value is null) return TextRef.Null;
        if (value.Length == 0) return TextRef.Empty;
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > ChunkSize / 4)
        {
            // a long string (a problem message, say) gets an array of its own
            _long.Add(Encoding.UTF8.GetBytes(value));
            return new TextRef(-_long.Count, 0, length);
        }
        if (_used + length > ChunkSize)
        {
            _chunks.Add(new byte[ChunkSize]);
            _used = 0;
        }
        int chunk = _chunks.Count - 1;
        Encoding.UTF8.GetBytes(value, _chunks[chunk].AsSpan(_used));
        var r = new TextRef(chunk, _used, length);
        _used += length;
        return r;
    }

    public ReadOnlySpan<byte> Utf8(TextRef r) =>
        r.Length <= 0 ? [] : r.Chunk < 0 ? _long[-1 - r.Chunk] : _chunks[r.Chunk].AsSpan(r.Offset, r.Length);

    public string? Get(TextRef r) => r.Length < 0 ? null : r.Length == 0 ? "" : Encoding.UTF8.GetString(Utf8(r));

    public bool Equals(TextRef r, string? value) =>
        value is null ? r.Length < 0 : r.Length >= 0 && Encoding.UTF8.GetByteCount(value) == r.Length && Utf8Equals(Utf8(r), value);

    private static bool Utf8Equals(ReadOnlySpan<byte> utf8, string value)
    {
        Span<byte> buffer = value.Length <= 256 ? stackalloc byte[utf8.Length] : new byte[utf8.Length];
        Encoding.UTF8.GetBytes(value, buffer);
        return buffer.SequenceEqual(utf8);
    }
}

/// <summary>Where a string of a <see cref="CompactText"/> is: chunk, offset and UTF-8 length; length -1 for null.</summary>
internal readonly record struct TextRef(int Chunk, int Offset, int Length)
{
    public static readonly TextRef Null = new(0, 0, -1);
    public static readonly TextRef Empty = new(0, 0, 0);
}

/// <summary>A few distinct strings (content types, class names, splits, views) stored once each, referred to by number; -1 is null.</summary>
internal sealed class StringTable
{
    private readonly Dictionary<string, int> _numbers = new(StringComparer.Ordinal);
    private readonly List<string> _values = [];

    public int Add(string? value)
    {
        if (value is null) return -1;
        if (_numbers.TryGetValue(value, out int n)) return n;
        _numbers[value] = n = _values.Count;
        _values.Add(value);
        return n;
    }

    public string? Get(int number) => number < 0 ? null : _values[number];
}
