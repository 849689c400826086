using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Core.Training;

/// <summary>
/// Writes one array in NumPy's .npy format, version 1.0 (numpy.lib.format): the magic "\x93NUMPY", version 1.0, a
/// little-endian uint16 header length, the header dict <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (N, ...), }</c>
/// padded with spaces and a newline to a multiple of 64 bytes, then the C-order little-endian data. Rows are appended
/// one at a time (streaming: the leading dimension is written into the header when the writer is disposed), so an
/// export never holds a whole split in memory. <c>numpy.load</c> reads the file.
/// </summary>
public sealed class NpyWriter : IDisposable
{
    /// <summary>Header bytes reserved before the data (a multiple of 64, enough for any shape of a few dimensions).</summary>
    private const int HeaderBytes = 128;
    private readonly FileStream _file;
    private readonly string _descr;
    private readonly int[] _rowShape;
    private readonly int _rowLength;
    private bool _disposed;

    private NpyWriter(string path, string descr, int[] rowShape)
    {
        if (rowShape.Any(d => d <= 0)) throw new ArgumentException($"row shape ({string.Join(", ", rowShape)}) must be positive", nameof(rowShape));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        _descr = descr;
        _rowShape = rowShape;
        _rowLength = rowShape.Aggregate(1, (a, b) => checked(a * b));
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _file.Write(new byte[HeaderBytes]);
    }

    public string Path => _file.Name;

    /// <summary>Rows written so far (the leading dimension).</summary>
    public int Rows { get; private set; }

    /// <summary>A float32 array of rows shaped <paramref name="rowShape"/>.</summary>
    public static NpyWriter Float32(string path, params int[] rowShape) => new(path, "<f4", rowShape);

    /// <summary>An int32 array of rows shaped <paramref name="rowShape"/>.</summary>
    public static NpyWriter Int32(string path, params int[] rowShape) => new(path, "<i4", rowShape);

    public void Append(ReadOnlySpan<float> row)
    {
        if (_descr != "<f4") throw new InvalidOperationException($"{Path} holds {_descr}, not float32");
        CheckLength(row.Length);
        _file.Write(MemoryMarshal.AsBytes(row));
        Rows++;
    }

    public void Append(ReadOnlySpan<int> row)
    {
        if (_descr != "<i4") throw new InvalidOperationException($"{Path} holds {_descr}, not int32");
        CheckLength(row.Length);
        _file.Write(MemoryMarshal.AsBytes(row));
        Rows++;
    }

    private void CheckLength(int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (length != _rowLength) throw new ArgumentException($"{Path}: a row holds {_rowLength} values ({string.Join("x", _rowShape)}), not {length}");
    }

    /// <summary>The header for <paramref name="rows"/> rows (exactly <see cref="HeaderBytes"/> bytes).</summary>
    internal static byte[] Header(string descr, int rows, IReadOnlyList<int> rowShape)
    {
        var dims = new[] { rows }.Concat(rowShape).Select(d => d.ToString(CultureInfo.InvariantCulture)).ToList();
        string shape = dims.Count == 1 ? $"({dims[0]},)" : "(" + string.Join(", ", dims) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int pad = HeaderBytes - 10 - dict.Length - 1;
        if (pad < 0) throw new InvalidOperationException($"npy header for shape {shape} exceeds {HeaderBytes} bytes");
        var header = new byte[HeaderBytes];
        Encoding.Latin1.GetBytes("\x93NUMPY").CopyTo(header, 0);
        header[6] = 1; header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), HeaderBytes - 10);
        Encoding.ASCII.GetBytes(dict + new string(' ', pad) + "\n").CopyTo(header, 10);
        return header;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _file.Position = 0;
        _file.Write(Header(_descr, Rows, _rowShape));
        _file.Dispose();
    }
}
