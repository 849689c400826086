using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Core.Contracts;

/// <summary>
/// Named float32 arrays in one small binary blob (the tensors one item carries from Preprocess to the GPU worker and
/// from the worker to Compose). Layout: "PTB1", int32 count, then per array: int32 name length, UTF-8 name, int32 length,
/// little-endian float32 values. Deterministic bytes for the same content.
/// </summary>
public sealed class TensorBundle
{
    private static readonly byte[] Magic = "PTB1"u8.ToArray();
    private readonly SortedDictionary<string, float[]> _arrays = new(StringComparer.Ordinal);

    public TensorBundle Add(string name, float[] values) { _arrays[name] = values; return this; }

    /// <summary>Whether the bundle holds a tensor of that name (optional tensors such as a domain's baselines).</summary>
    public bool Contains(string name) => _arrays.ContainsKey(name);

    public float[] Get(string name, string item) =>
        _arrays.TryGetValue(name, out var v) ? v : throw new InvalidDataException($"{item}: tensor bundle has no '{name}' (has {string.Join(", ", _arrays.Keys)})");

    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        Span<byte> i4 = stackalloc byte[4];
        ms.Write(Magic);
        BinaryPrimitives.WriteInt32LittleEndian(i4, _arrays.Count); ms.Write(i4);
        foreach (var (name, values) in _arrays)
        {
            var n = Encoding.UTF8.GetBytes(name);
            BinaryPrimitives.WriteInt32LittleEndian(i4, n.Length); ms.Write(i4); ms.Write(n);
            BinaryPrimitives.WriteInt32LittleEndian(i4, values.Length); ms.Write(i4);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
            ms.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        return ms.ToArray();
    }

    public static TensorBundle Parse(ReadOnlySpan<byte> data, string item)
    {
        var b = new TensorBundle();
        int pos = 0;
        int ReadInt(ReadOnlySpan<byte> d)
        {
            if (pos + 4 > d.Length) throw new InvalidDataException($"{item}: tensor bundle truncated at byte {pos}");
            int v = BinaryPrimitives.ReadInt32LittleEndian(d[pos..]); pos += 4;
            if (v < 0) throw new InvalidDataException($"{item}: tensor bundle has a negative length at byte {pos - 4}");
            return v;
        }
        if (data.Length < 8 || !data[..4].SequenceEqual(Magic)) throw new InvalidDataException($"{item}: not a tensor bundle (bad magic)");
        pos = 4;
        int count = ReadInt(data);
        for (int k = 0; k < count; k++)
        {
            int nl = ReadInt(data);
            if (pos + nl > data.Length) throw new InvalidDataException($"{item}: tensor bundle truncated in a name");
            string name = Encoding.UTF8.GetString(data.Slice(pos, nl)); pos += nl;
            int len = ReadInt(data);
            if ((long)pos + 4L * len > data.Length) throw new InvalidDataException($"{item}: tensor bundle truncated in '{name}'");
            b._arrays[name] = MemoryMarshal.Cast<byte, float>(data.Slice(pos, 4 * len)).ToArray(); pos += 4 * len;
        }
        return b;
    }
}
