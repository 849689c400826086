using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Imaging.Tests.Buffers;

/// <summary>Minimal NumPy .npy (format 1.0-3.0, C order) reader and writer: the exchange format of the golden vectors.</summary>
public sealed class Npy
{
    public required string Descr { get; init; }
    public required int[] Shape { get; init; }
    public required byte[] Data { get; init; }

    public static string DataPath(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", .. parts]);

    public static Npy Load(params string[] parts)
    {
        var path = DataPath(parts);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY") throw new InvalidDataException($"{path} is not .npy");
        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = major == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetString(bytes, start, headerLength);
        var descr = Regex.Match(header, @"'descr':\s*'([^']+)'").Groups[1].Value;
        if (header.Contains("'fortran_order': True")) throw new InvalidDataException($"{path}: Fortran order not supported");
        var shapeText = Regex.Match(header, @"'shape':\s*\(([^)]*)\)").Groups[1].Value;
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        return new Npy { Descr = descr, Shape = shape, Data = bytes[(start + headerLength)..] };
    }

    public int Count => Shape.Aggregate(1, (a, b) => a * b);

    public float[] Floats() => Descr switch
    {
        "<f4" => MemoryMarshal.Cast<byte, float>(Data).ToArray(),
        "<f8" => MemoryMarshal.Cast<byte, double>(Data).ToArray().Select(d => (float)d).ToArray(),
        "|u1" or "|b1" => Data.Select(b => (float)b).ToArray(),
        "<u2" => MemoryMarshal.Cast<byte, ushort>(Data).ToArray().Select(v => (float)v).ToArray(),
        _ => throw new NotSupportedException(Descr),
    };

    public double[] Doubles() => Descr == "<f8" ? MemoryMarshal.Cast<byte, double>(Data).ToArray() : Floats().Select(v => (double)v).ToArray();

    public byte[] Bytes() => Descr is "|u1" or "|b1" ? Data : throw new InvalidOperationException($"{Descr} is not uint8");
    public ushort[] UInt16() => Descr == "<u2" ? MemoryMarshal.Cast<byte, ushort>(Data).ToArray() : throw new InvalidOperationException($"{Descr} is not uint16");

    public static void Save<T>(string path, ReadOnlySpan<T> data, params int[] shape) where T : unmanaged
    {
        string descr = typeof(T) == typeof(float) ? "<f4" : typeof(T) == typeof(byte) ? "|u1" : typeof(T) == typeof(ushort) ? "<u2" : typeof(T) == typeof(int) ? "<i4" : throw new NotSupportedException(typeof(T).Name);
        if (shape.Aggregate(1, (a, b) => a * b) != data.Length) throw new ArgumentException("shape does not match data");
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var f = File.Create(path);
        f.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        f.Write(BitConverter.GetBytes((ushort)header.Length));
        f.Write(Encoding.ASCII.GetBytes(header));
        f.Write(MemoryMarshal.AsBytes(data));
    }
}
