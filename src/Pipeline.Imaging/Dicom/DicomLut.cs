using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Pipeline.Imaging.Buffers;

namespace Pipeline.Imaging.Dicom;

/// <summary>
/// A lookup table from a Modality LUT Sequence or VOI LUT Sequence item (PS3.3 C.11.1 and C.11.2): LUT Descriptor
/// [entries (0 means 65536), first input value mapped, bits per entry] and LUT Data.
/// </summary>
public sealed class DicomLut
{
    private DicomLut(int firstInput, ushort[] data, int bits) { FirstInput = firstInput; Data = data; Bits = bits; }

    public int FirstInput { get; }
    public ushort[] Data { get; }
    public int Bits { get; }

    /// <summary>Reads a LUT item; <paramref name="signedInput"/> says whether the first-input value is SS (signed pixels).</summary>
    public static DicomLut From(DicomDataset item, bool signedInput, string source)
    {
        var descriptorBytes = item.GetBytes(DicomTag.LUTDescriptor).Span;
        if (descriptorBytes.Length < 6) throw new DicomException(source, "LUT Descriptor (0028,3002) must hold 3 values");
        int entries = BinaryPrimitives.ReadUInt16LittleEndian(descriptorBytes);
        if (entries == 0) entries = 65536;
        ushort firstRaw = BinaryPrimitives.ReadUInt16LittleEndian(descriptorBytes[2..]);
        int first = signedInput ? (short)firstRaw : firstRaw;
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(descriptorBytes[4..]);
        if (bits is < 8 or > 16) throw new DicomException(source, $"LUT Descriptor bits per entry {bits} is outside 8..16");
        var raw = item.GetBytes(DicomTag.LUTData).Span;
        var data = new ushort[entries];
        if (raw.Length >= entries * 2)
            for (int i = 0; i < entries; i++) data[i] = BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]);
        else if (bits == 8 && raw.Length >= entries)
            for (int i = 0; i < entries; i++) data[i] = raw[i]; // 8-bit entries packed in bytes (PS3.3 C.11.1.1.1 allows it as OB)
        else throw new DicomException(source, $"LUT Data (0028,3006) holds {raw.Length} bytes for {entries} entries of {bits} bits");
        return new DicomLut(first, data, bits);
    }

    /// <summary>Table value for input x: values below the first input map to the first entry, above the last to the last (C.11.2.1.1).</summary>
    public ushort Lookup(double x)
    {
        long idx = (long)Math.Floor(x) - FirstInput;
        if (idx < 0) idx = 0; else if (idx >= Data.Length) idx = Data.Length - 1;
        return Data[idx];
    }

    public double MaxOutput => (1 << Bits) - 1;
}
